// SPDX-License-Identifier: GPL-2.0
/*
 * kipc_ivshmem - guest driver for QEMU's ivshmem-plain and
 * ivshmem-doorbell PCI devices (1af4:1110), with the myshm interface.
 *
 * Every device becomes the misc device /dev/ivshmemN: mmap(MAP_SHARED)
 * of BAR2 mapped write-back, read()/write()/lseek(), MYSHM_GET_SIZE; plus
 * the doorbell ioctls and poll() of <kipc/ivshmem_ioctl.h>.  BAR2 gets
 * struct pages where the kernel allows it, so that process-shared futexes
 * work in it (see ivs_map_pages()), and is then mapped 2 MiB at a time
 * where a mapping allows (ivs_huge_fault()).  Each MSI-X vector
 * counts its interrupts; waiters compare that count with their file's
 * "seen" count, so no interrupt is lost between two waits.
 *
 * Lifetime: struct ivs_dev is refcounted (kref): the PCI binding holds one
 * reference and every open file one.  remove() (unbind, hot-unplug,
 * module unload) marks the device dead, waits for every SRCU reader (a
 * fault, a read/write copy, a ring) to finish, zaps every user mapping,
 * wakes the waiters and then releases the hardware.  Later faults get
 * SIGBUS, later calls ENODEV.  Nothing inside an SRCU section may sleep on
 * something user space controls (see ivs_rw()), or remove() would wait on
 * it.
 *
 * Every device owns an inode of the driver's own pseudo filesystem (DRM's
 * drm_fs_inode_new() pattern): all its open files point f_mapping at that
 * inode's address_space, so remove() finds every mapping in one place,
 * whichever device node (a container's /dev on a tmpfs, say) was opened.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/pfn_t.h>
#include <linux/poll.h>
#include <linux/pseudo_fs.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <kipc/ivshmem_ioctl.h>
#include <kipc/myshm.h>

#include "kipc_compat.h"
#include "kipc_dmabuf.h"
#include "kipc_shmem.h"

/* ---- the device (QEMU docs/specs/ivshmem-spec.rst) ---- */

#define IVS_VENDOR_ID PCI_VENDOR_ID_REDHAT_QUMRANET	/* 0x1af4 */
#define IVS_DEVICE_ID 0x1110

/* BAR0: registers, BAR1: the MSI-X table (doorbell only), BAR2: memory. */
#define IVS_BAR_REGS 0
#define IVS_BAR_MEM 2

/*
 * BAR0 registers, 32 bits wide.  IntrMask (0x00) and IntrStatus (0x04)
 * serve only the legacy INTx interrupt, which QEMU's ivshmem-doorbell no
 * longer raises (it is MSI-X only), so the driver leaves them alone.
 */
#define IVS_REG_IVPOSITION 0x08	/* ro: own peer id (0 on ivshmem-plain) */
#define IVS_REG_DOORBELL 0x0c	/* wo: IVS_DOORBELL(peer, vector) */
#define IVS_REGS_MIN_LEN 16	/* BAR0 must cover the registers above */

/* Doorbell value: peer id in bits 31..16, vector in 15..0. */
#define IVS_DOORBELL(peer, vec) ((u32)(peer) << 16 | (u32)(vec))
#define IVS_PEER_MAX 0xffff	/* a peer id is 16 bits */
/* QEMU decodes only the low 8 bits of the vector (val & 0xff). */
#define IVS_RING_VECTOR_MAX 0xff

/* ---- the driver ---- */

#define IVS_NAME_LEN 32
/* Superblock magic of the driver's pseudo filesystem ("ivsm"). */
#define IVS_FS_MAGIC 0x6976736d

struct ivs_dev;

/**
 * struct ivs_vec - the interrupt handler's context for one vector
 * @dev: the device
 * @irq: its Linux irq number
 * @count: interrupts taken
 * @wq: KIPC_IVSHMEM_WAIT callers waiting on this vector (and removal)
 */
struct ivs_vec {
	struct ivs_dev *dev;
	int irq;
	atomic64_t count;
	wait_queue_head_t wq;
};

/**
 * struct ivs_dev - one bound ivshmem device
 * @misc: /dev/ivshmemN
 * @kref: one for the binding, one per open file
 * @pdev: the PCI device (NULL once removed)
 * @regs: BAR0
 * @mem: BAR2, mapped write-back (memremap() or the ZONE_DEVICE pages')
 * @pgmap: BAR2's struct pages (ZONE_DEVICE); NULL when it has none
 * @phys: BAR2's bus address
 * @size: BAR2's size
 * @peer_id: IVPosition at probe
 * @vectors: MSI-X vectors in use (0: plain)
 * @vec: per vector: irq, interrupt count and waiters
 * @dead: set by remove(); read under @srcu
 * @srcu: readers of @regs and @mem (and faults) vs remove()
 * @lock: serializes changes of @files
 * @files: the open files (RCU list: the interrupt handler walks it)
 * @inode: this device's inode on the driver's pseudo filesystem; every
 *	open file's f_mapping is its address_space
 * @index: N of ivshmemN
 * @name: "ivshmemN"
 * @stable: "ivshmem-<PCI address>"
 */
struct ivs_dev {
	struct miscdevice misc;
	struct kref kref;
	struct pci_dev *pdev;
	void __iomem *regs;
	void *mem;
	struct dev_pagemap *pgmap;
	phys_addr_t phys;
	resource_size_t size;
	u32 peer_id;
	unsigned int vectors;
	struct ivs_vec vec[KIPC_IVSHMEM_MAX_VECTORS];
	bool dead;
	struct srcu_struct srcu;
	struct mutex lock;	/* serializes changes of @files */
	struct list_head files;
	struct inode *inode;
	int index;
	char name[IVS_NAME_LEN];
	char stable[IVS_NAME_LEN + 16];
};

/**
 * struct ivs_file - per open file
 * @dev: the device (a reference)
 * @node: in dev->files
 * @poll_wq: poll()/epoll waiters of this file: woken by interrupts of the
 *	vectors in @poll_mask, by this file's SET_POLL and by removal
 * @poll_mask: vectors poll() watches
 * @seen: last consumed count per vector
 * @rcu: frees the file after the interrupt handler's walks
 */
struct ivs_file {
	struct ivs_dev *dev;
	struct list_head node;
	wait_queue_head_t poll_wq;
	u64 poll_mask;
	u64 seen[KIPC_IVSHMEM_MAX_VECTORS];
	struct rcu_head rcu;
};

static DEFINE_IDA(ivs_ida);

/*
 * struct_pages=0 maps BAR2 as raw page frames even where it could have
 * struct pages: no shared futexes and no dma-buf export, but no memmap
 * either (64 bytes of guest RAM per 4 KiB page, 16 MiB for a 1 GiB BAR)
 * and no memory hotplug at probe.  Read at every probe (bind).
 */
static bool struct_pages = true;
module_param(struct_pages, bool, 0444);
MODULE_PARM_DESC(struct_pages,
		 "give BAR2 struct pages (shared futexes, dma-buf) where the kernel can (default: 1)");

/* The driver's pseudo filesystem: one anonymous inode per device. */
static struct vfsmount *ivs_mnt;

static int ivs_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IVS_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the mount lives from module init to module exit (as
 * zsmalloc's), and an owner would pin the module to itself.
 */
static struct file_system_type ivs_fs_type = {
	.name = "kipc_ivshmem",
	.init_fs_context = ivs_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static void ivs_free(struct kref *kref)
{
	struct ivs_dev *d = container_of(kref, struct ivs_dev, kref);

	if (!IS_ERR_OR_NULL(d->inode))
		iput(d->inode);
	cleanup_srcu_struct(&d->srcu);
	if (d->index >= 0)
		ida_free(&ivs_ida, d->index);
	kfree(d);
}

/* ---- file operations ---- */

static int ivs_open(struct inode *inode, struct file *file)
{
	struct ivs_dev *d = container_of(file->private_data, struct ivs_dev,
					 misc);
	struct ivs_file *f;
	unsigned int v;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	/* misc_open() holds misc_mtx: remove() cannot free @d meanwhile. */
	kref_get(&d->kref);
	f->dev = d;
	init_waitqueue_head(&f->poll_wq);
	f->poll_mask = d->vectors >= 64 ? ~0ULL : (1ULL << d->vectors) - 1;
	for (v = 0; v < d->vectors; v++)
		f->seen[v] = atomic64_read(&d->vec[v].count);
	file->f_mapping = d->inode->i_mapping;
	file->private_data = f;
	mutex_lock(&d->lock);
	list_add_tail_rcu(&f->node, &d->files);
	mutex_unlock(&d->lock);
	return 0;
}

static int ivs_release(struct inode *inode, struct file *file)
{
	struct ivs_file *f = file->private_data;
	struct ivs_dev *d = f->dev;

	mutex_lock(&d->lock);
	list_del_rcu(&f->node);
	mutex_unlock(&d->lock);
	kfree_rcu(f, rcu);
	kref_put(&d->kref, ivs_free);
	return 0;
}

/* Map page PGOFF of BAR2 at the faulting address; SIGBUS once removed. */
static vm_fault_t ivs_insert(struct ivs_dev *d, struct vm_fault *vmf,
			     pgoff_t pgoff)
{
	vm_fault_t ret = VM_FAULT_SIGBUS;
	phys_addr_t phys = d->phys + ((phys_addr_t)pgoff << PAGE_SHIFT);
	int idx;

	idx = srcu_read_lock(&d->srcu);
	if (READ_ONCE(d->dead) || pgoff >= d->size >> PAGE_SHIFT)
		goto out;
	if (d->pgmap)	/* as device-dax: a devmap pte, no refcount */
		ret = vmf_insert_mixed(vmf->vma, vmf->address & PAGE_MASK,
				       phys_to_pfn_t(phys, PFN_DEV | PFN_MAP));
	else
		ret = vmf_insert_pfn(vmf->vma, vmf->address & PAGE_MASK,
				     PHYS_PFN(phys));
out:
	srcu_read_unlock(&d->srcu, idx);
	return ret;
}

static vm_fault_t ivs_fault(struct vm_fault *vmf)
{
	struct ivs_file *f = vmf->vma->vm_file->private_data;

	return ivs_insert(f->dev, vmf, vmf->pgoff);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * Map the 2 MiB of BAR2 around the faulting address with one PMD, as
 * device-dax does: a devmap PMD over struct pages, so get_user_pages()
 * (futex keys) still finds each 4 KiB page with its ->mapping and
 * ->index.  The core asks for it only in DAX mappings (ivs_map_pages()
 * marks the device's inode S_DAX) and ivs_fops aligns mappings to 2 MiB;
 * anything that does not cover a whole aligned 2 MiB of the mapping and of
 * BAR2 falls back to ivs_fault()'s 4 KiB pages, as does every other size.
 */
static vm_fault_t ivs_huge_fault(struct vm_fault *vmf, kipc_fault_size_t size)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ivs_file *f = vma->vm_file->private_data;
	struct ivs_dev *d = f->dev;
	unsigned long addr = vmf->address & PMD_MASK;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	phys_addr_t phys;
	pgoff_t pgoff;
	int idx;

	if (!kipc_fault_is_pmd(size) || addr < vma->vm_start ||
	    addr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (!IS_ALIGNED(pgoff, PMD_SIZE >> PAGE_SHIFT))
		return VM_FAULT_FALLBACK;
	idx = srcu_read_lock(&d->srcu);
	if (READ_ONCE(d->dead)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/* BAR2 is 2 MiB-aligned whenever it has struct pages */
	if (!d->pgmap ||
	    pgoff + (PMD_SIZE >> PAGE_SHIFT) > d->size >> PAGE_SHIFT)
		goto out;
	phys = d->phys + ((phys_addr_t)pgoff << PAGE_SHIFT);
	ret = vmf_insert_pfn_pmd(vmf, phys_to_pfn_t(phys, PFN_DEV | PFN_MAP),
				 vmf->flags & FAULT_FLAG_WRITE);
out:
	srcu_read_unlock(&d->srcu, idx);
	return ret;
}
#endif

static const struct vm_operations_struct ivs_vm_ops = {
	.fault = ivs_fault,
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	.huge_fault = ivs_huge_fault,
#endif
};

static int ivs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ivs_file *f = file->private_data;
	struct ivs_dev *d = f->dev;
	unsigned long pages = vma_pages(vma);

	/*
	 * MAP_SHARED of an O_RDONLY file clears VM_SHARED but keeps
	 * VM_MAYSHARE, so VM_MAYSHARE tells shared from private mappings.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff > d->size >> PAGE_SHIFT ||
	    pages > (d->size >> PAGE_SHIFT) - vma->vm_pgoff)
		return -EINVAL;
	if (READ_ONCE(d->dead))
		return -ENODEV;
	/*
	 * Cached, like RAM: keep vm_page_prot (WB) as it is.  With struct
	 * pages the mapping is VM_MIXEDMAP and not VM_IO, so that
	 * get_user_pages() (the futex key, O_DIRECT, process_vm_readv)
	 * finds the pages; without, raw PFNs.
	 */
	kipc_vm_flags_set(vma, (d->pgmap ? VM_MIXEDMAP : VM_PFNMAP | VM_IO) |
			  VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ivs_vm_ops;
	return 0;
}

static loff_t ivs_llseek(struct file *file, loff_t off, int whence)
{
	struct ivs_file *f = file->private_data;

	return fixed_size_llseek(file, off, whence, f->dev->size);
}

/**
 * struct ivs_copy - one read() or write() in progress
 * @dev: the device
 * @ubuf: the user buffer
 * @pos: where in BAR2 the transfer starts
 * @write: copy from @ubuf into BAR2 (else out of it)
 */
struct ivs_copy {
	struct ivs_dev *dev;
	char __user *ubuf;
	loff_t pos;
	bool write;
};

/*
 * kipc_copy_chunked()'s callback: copy @n bytes at @done of the transfer.
 * Page faults are disabled inside the SRCU section: a fault on the user
 * buffer may never complete (a userfaultfd range, a FUSE file whose daemon
 * does not answer), and remove() waits for that section.  On a fault,
 * leave the section, fault the rest in (sleeping there holds nobody up)
 * and come back.  Returns the bytes that cannot be faulted in (the transfer
 * ends there), or -ENODEV once the device is gone.
 */
static long ivs_copy(void *ctx, size_t done, size_t n)
{
	struct ivs_copy *c = ctx;
	struct ivs_dev *d = c->dev;
	size_t off = 0;
	unsigned long left;
	char __user *u;
	int idx;

	for (;;) {
		u = c->ubuf + done + off;
		idx = srcu_read_lock(&d->srcu);
		if (READ_ONCE(d->dead)) {
			srcu_read_unlock(&d->srcu, idx);
			return off ? n - off : -ENODEV;
		}
		pagefault_disable();
		if (c->write)
			left = copy_from_user(d->mem + c->pos + done + off, u,
					      n - off);
		else
			left = copy_to_user(u, d->mem + c->pos + done + off,
					    n - off);
		pagefault_enable();
		srcu_read_unlock(&d->srcu, idx);
		if (!left)
			return 0;
		off = n - left;
		u = c->ubuf + done + off;
		/* the safe variant writes nothing: @u may map this device */
		if ((c->write ? fault_in_readable(u, left) :
				fault_in_safe_writeable(u, left)) == left)
			return left;
	}
}

static ssize_t ivs_rw(struct file *file, char __user *ubuf, size_t len,
		      loff_t *ppos, bool write)
{
	struct ivs_dev *d = ((struct ivs_file *)file->private_data)->dev;
	struct ivs_copy c = { d, ubuf, *ppos, write };
	ssize_t ret;

	if (c.pos < 0)
		return -EINVAL;
	if (c.pos >= d->size || !len) {
		if (write && len)
			return -ENOSPC;
		return 0;
	}
	ret = kipc_copy_chunked(min_t(size_t, len, d->size - c.pos), ivs_copy,
				&c);
	if (ret > 0)
		*ppos = c.pos + ret;
	return ret;
}

static ssize_t ivs_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	return ivs_rw(file, buf, len, ppos, false);
}

static ssize_t ivs_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	return ivs_rw(file, (char __user *)buf, len, ppos, true);
}

static bool ivs_pending(struct ivs_file *f, u64 mask)
{
	unsigned int v;

	for (v = 0; v < f->dev->vectors; v++)
		if ((mask & (1ULL << v)) &&
		    atomic64_read(&f->dev->vec[v].count) != f->seen[v])
			return true;
	return false;
}

static __poll_t ivs_poll(struct file *file, poll_table *wait)
{
	struct ivs_file *f = file->private_data;
	struct ivs_dev *d = f->dev;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &f->poll_wq, wait);
	if (READ_ONCE(d->dead))
		return EPOLLERR | EPOLLHUP;
	if (ivs_pending(f, READ_ONCE(f->poll_mask)))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* A waiter on VEC of F may return: news on VEC, or the device is gone. */
static bool ivs_woken(struct ivs_file *f, unsigned int vec)
{
	return READ_ONCE(f->dev->dead) ||
	       atomic64_read(&f->dev->vec[vec].count) != f->seen[vec];
}

/* KIPC_IVSHMEM_WAIT: sleep until a doorbell on one vector. */
static long ivs_ioctl_wait(struct file *file, struct ivs_file *f,
			   struct kipc_ivshmem_wait __user *uarg)
{
	struct ivs_dev *d = f->dev;
	struct kipc_ivshmem_wait w;
	long ret = 0, t;
	u64 c;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (!d->vectors)
		return -EOPNOTSUPP;
	if (w.vector >= d->vectors || w.timeout_ms < -1)
		return -EINVAL;
	if (w.timeout_ms == 0 || (file->f_flags & O_NONBLOCK)) {
		if (atomic64_read(&d->vec[w.vector].count) == f->seen[w.vector])
			ret = -EAGAIN;
	} else {
		t = w.timeout_ms < 0 ? MAX_SCHEDULE_TIMEOUT :
			msecs_to_jiffies(w.timeout_ms);
		t = wait_event_interruptible_timeout(d->vec[w.vector].wq,
						     ivs_woken(f, w.vector),
						     t);
		if (t < 0)
			ret = -EINTR;
		else if (t == 0)
			ret = -ETIMEDOUT;
	}
	if (READ_ONCE(d->dead))
		return -ENODEV;
	/* Report first, consume after: a failed copy consumes nothing. */
	c = atomic64_read(&d->vec[w.vector].count);
	w.count = c;
	if (copy_to_user(uarg, &w, sizeof(w)))
		return -EFAULT;
	if (!ret)
		f->seen[w.vector] = c;
	return ret;
}

/* ---- dma-buf export ---- */

#if IS_ENABLED(CONFIG_ZONE_DEVICE) && IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
/**
 * struct ivs_export - one dma-buf of a range of BAR2
 * @dev: the device (a reference, dropped when the dma-buf is released)
 * @pgoff: first page of the range in BAR2
 * @pages: pages in the range
 */
struct ivs_export {
	struct ivs_dev *dev;
	pgoff_t pgoff;
	pgoff_t pages;
};

static struct page *ivs_export_page(void *ctx, pgoff_t i)
{
	struct ivs_export *e = ctx;

	return pfn_to_page(PHYS_PFN(e->dev->phys)) + e->pgoff + i;
}

/*
 * An importer's scatter list.  Its page references keep removal from
 * freeing the page map under the importer (ivs_unmap_pages() waits for
 * them, then leaks the map); SRCU makes sure the map is there to take
 * them from.
 */
static struct sg_table *ivs_dmabuf_map(struct dma_buf_attachment *at,
				       enum dma_data_direction dir)
{
	struct ivs_export *e = at->dmabuf->priv;
	struct ivs_dev *d = e->dev;
	struct sg_table *sgt;
	int idx;

	idx = srcu_read_lock(&d->srcu);
	if (READ_ONCE(d->dead))
		sgt = ERR_PTR(-ENODEV);
	else
		sgt = kipc_dmabuf_map_pages(at, dir, ivs_export_page, e,
					    e->pages);
	srcu_read_unlock(&d->srcu, idx);
	return sgt;
}

static vm_fault_t ivs_dmabuf_fault(struct vm_fault *vmf)
{
	struct ivs_export *e = vmf->vma->vm_private_data;

	if (vmf->pgoff >= e->pages)
		return VM_FAULT_SIGBUS;
	return ivs_insert(e->dev, vmf, e->pgoff + vmf->pgoff);
}

static const struct vm_operations_struct ivs_dmabuf_vm_ops = {
	.fault = ivs_dmabuf_fault,
};

/*
 * mmap() of the dma-buf (directly, or through an importer such as a DRM
 * driver's dma_buf_mmap()): as the device's own mapping, over the range.
 */
static int ivs_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct ivs_export *e = dmabuf->priv;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff > e->pages || vma_pages(vma) > e->pages - vma->vm_pgoff)
		return -EINVAL;
	if (READ_ONCE(e->dev->dead))
		return -ENODEV;
	kipc_vm_flags_clear(vma, VM_PFNMAP | VM_IO);
	kipc_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ivs_dmabuf_vm_ops;
	vma->vm_private_data = e;
	return 0;
}

static void ivs_dmabuf_release(struct dma_buf *dmabuf)
{
	struct ivs_export *e = dmabuf->priv;

	kref_put(&e->dev->kref, ivs_free);
	kfree(e);
}

/* CPU access needs no cache maintenance: the mapping is coherent WB. */
static const struct dma_buf_ops ivs_dmabuf_ops = {
	.map_dma_buf = ivs_dmabuf_map,
	.unmap_dma_buf = kipc_dmabuf_unmap_pages,
	.mmap = ivs_dmabuf_mmap,
	.release = ivs_dmabuf_release,
};

/*
 * KIPC_IVSHMEM_DMABUF: a dma-buf of [offset, offset + size) of BAR2.  It
 * holds a reference to the device (and, through dma-buf's owner, to the
 * module) until its last user closes it.  Its file's f_mapping is the
 * device's, so remove() zaps its mappings with the device's own.
 */
static long ivs_ioctl_dmabuf(struct file *file, struct ivs_dev *d,
			     struct kipc_ivshmem_dmabuf __user *uarg)
{
	struct kipc_ivshmem_dmabuf a;
	struct ivs_export *e;
	struct dma_buf *dmabuf;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if ((a.flags & ~KIPC_IVSHMEM_DMABUF_CLOEXEC) || a.reserved ||
	    kipc_dmabuf_check(a.offset, a.size, d->size))
		return -EINVAL;
	if (!d->pgmap)
		return -EOPNOTSUPP;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->dev = d;
	e->pgoff = a.offset >> PAGE_SHIFT;
	e->pages = a.size >> PAGE_SHIFT;
	dmabuf = kipc_dmabuf_export(&ivs_dmabuf_ops, e, a.size, file,
				    d->inode->i_mapping);
	if (IS_ERR(dmabuf)) {
		kfree(e);
		return PTR_ERR(dmabuf);
	}
	kref_get(&d->kref);	/* dropped by ivs_dmabuf_release() */
	return kipc_dmabuf_install(dmabuf,
				   a.flags & KIPC_IVSHMEM_DMABUF_CLOEXEC,
				   &uarg->fd);
}
#else
static long ivs_ioctl_dmabuf(struct file *file, struct ivs_dev *d,
			     struct kipc_ivshmem_dmabuf __user *uarg)
{
	return -EOPNOTSUPP;
}
#endif

/* MYSHM_GET_SIZE: the memory's size in bytes, as myshm. */
static long ivs_ioctl_get_size(struct ivs_dev *d, u64 __user *uarg)
{
	return put_user((u64)d->size, uarg);
}

/* KIPC_IVSHMEM_GET_INFO: size, peer id, vectors. */
static long ivs_ioctl_get_info(struct ivs_dev *d,
			       struct kipc_ivshmem_info __user *uarg)
{
	struct kipc_ivshmem_info info = {
		.size = d->size,
		.peer_id = d->peer_id,
		.vectors = d->vectors,
		.doorbell = d->vectors > 0,
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* KIPC_IVSHMEM_GET_PEER_ID: the IVPosition read at probe. */
static long ivs_ioctl_get_peer_id(struct ivs_dev *d, u32 __user *uarg)
{
	return put_user(d->peer_id, uarg);
}

/* KIPC_IVSHMEM_RING: write the Doorbell register. */
static long ivs_ioctl_ring(struct file *file, struct ivs_dev *d,
			   struct kipc_ivshmem_ring __user *uarg)
{
	struct kipc_ivshmem_ring r;
	long ret = 0;
	int idx;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.peer > IVS_PEER_MAX || r.vector > IVS_RING_VECTOR_MAX)
		return -EINVAL;
	if (!d->vectors)
		return -EOPNOTSUPP;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	idx = srcu_read_lock(&d->srcu);
	if (READ_ONCE(d->dead))
		ret = -ENODEV;
	else
		iowrite32(IVS_DOORBELL(r.peer, r.vector),
			  d->regs + IVS_REG_DOORBELL);
	srcu_read_unlock(&d->srcu, idx);
	return ret;
}

/* KIPC_IVSHMEM_SET_POLL: the vectors poll() of this file watches. */
static long ivs_ioctl_set_poll(struct ivs_file *f, u64 __user *uarg)
{
	struct ivs_dev *d = f->dev;
	u64 mask;

	if (get_user(mask, uarg))
		return -EFAULT;
	if (d->vectors < 64 && (mask >> d->vectors))
		return -EINVAL;
	WRITE_ONCE(f->poll_mask, mask);
	wake_up_all(&f->poll_wq);	/* this file's pollers only */
	return 0;
}

static long ivs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ivs_file *f = file->private_data;
	struct ivs_dev *d = f->dev;
	void __user *uarg = (void __user *)arg;

	if (READ_ONCE(d->dead))
		return -ENODEV;
	switch (cmd) {
	case MYSHM_GET_SIZE:
		return ivs_ioctl_get_size(d, uarg);
	case KIPC_IVSHMEM_GET_INFO:
		return ivs_ioctl_get_info(d, uarg);
	case KIPC_IVSHMEM_GET_PEER_ID:
		return ivs_ioctl_get_peer_id(d, uarg);
	case KIPC_IVSHMEM_RING:
		return ivs_ioctl_ring(file, d, uarg);
	case KIPC_IVSHMEM_WAIT:
		return ivs_ioctl_wait(file, f, uarg);
	case KIPC_IVSHMEM_SET_POLL:
		return ivs_ioctl_set_poll(f, uarg);
	case KIPC_IVSHMEM_DMABUF:
		return ivs_ioctl_dmabuf(file, d, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations ivs_fops = {
	.owner = THIS_MODULE,
	.open = ivs_open,
	.release = ivs_release,
	.mmap = ivs_mmap,
	/* 2 MiB-aligned mappings of 2 MiB or more: PMDs (ivs_huge_fault()) */
	.get_unmapped_area = kipc_thp_get_unmapped_area,
	.llseek = ivs_llseek,
	.read = ivs_read,
	.write = ivs_write,
	.poll = ivs_poll,
	.unlocked_ioctl = ivs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ---- sysfs ---- */

static struct ivs_dev *ivs_of(struct device *dev)
{
	/* misc_register() makes the miscdevice the drvdata */
	return container_of(dev_get_drvdata(dev), struct ivs_dev, misc);
}

static ssize_t size_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", (u64)ivs_of(dev)->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t peer_id_show(struct device *dev, struct device_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", ivs_of(dev)->peer_id);
}
static DEVICE_ATTR_RO(peer_id);

static ssize_t vectors_show(struct device *dev, struct device_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", ivs_of(dev)->vectors);
}
static DEVICE_ATTR_RO(vectors);

static ssize_t doorbell_show(struct device *dev, struct device_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", ivs_of(dev)->vectors > 0);
}
static DEVICE_ATTR_RO(doorbell);

static ssize_t struct_pages_show(struct device *dev,
				 struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%d\n", !!ivs_of(dev)->pgmap);
}
static DEVICE_ATTR_RO(struct_pages);

static ssize_t name_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", ivs_of(dev)->stable);
}
static DEVICE_ATTR_RO(name);

static ssize_t pci_address_show(struct device *dev,
				struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", ivs_of(dev)->stable + 8);
}
static DEVICE_ATTR_RO(pci_address);

static ssize_t events_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	struct ivs_dev *d = ivs_of(dev);
	unsigned int v;
	int n = 0;

	for (v = 0; v < d->vectors; v++)
		n += sysfs_emit_at(buf, n, "%s%lld", v ? " " : "",
				   (long long)atomic64_read(&d->vec[v].count));
	n += sysfs_emit_at(buf, n, "\n");
	return n;
}
static DEVICE_ATTR_RO(events);

static struct attribute *ivs_attrs[] = {
	&dev_attr_size.attr, &dev_attr_peer_id.attr, &dev_attr_vectors.attr,
	&dev_attr_doorbell.attr, &dev_attr_name.attr,
	&dev_attr_pci_address.attr, &dev_attr_events.attr,
	&dev_attr_struct_pages.attr, NULL,
};
ATTRIBUTE_GROUPS(ivs);

/* ---- PCI ---- */

/*
 * A doorbell on one vector: count it, wake that vector's waiters and the
 * pollers of the files that watch it; nobody else.  Count first: a waiter
 * queues itself before it compares counts, and the wake-up takes the
 * queue's lock, so either it sees the new count or it is woken.
 */
static irqreturn_t ivs_irq(int irq, void *data)
{
	struct ivs_vec *vec = data;
	struct ivs_dev *d = vec->dev;
	u64 bit = BIT_ULL(vec - d->vec);
	struct ivs_file *f;

	atomic64_inc(&vec->count);
	wake_up_all(&vec->wq);
	rcu_read_lock();
	list_for_each_entry_rcu(f, &d->files, node)
		if (READ_ONCE(f->poll_mask) & bit)
			wake_up_all(&f->poll_wq);
	rcu_read_unlock();
	return IRQ_HANDLED;
}

/* devm action, registered first in probe: drops the binding's reference last. */
static void ivs_put_binding(void *data)
{
	struct ivs_dev *d = data;

	kref_put(&d->kref, ivs_free);
}

static void ivs_memunmap(void *mem)
{
	memunmap(mem);
}

/* Dirtying a page of device memory needs no bookkeeping (device-dax's). */
static const struct address_space_operations ivs_aops = {
	.dirty_folio = noop_dirty_folio,
};

#ifdef CONFIG_ZONE_DEVICE
/* How long remove() waits for pinned pages before it leaks their map. */
#define IVS_PIN_WAIT_MS 5000

/* Is any page of @d still referenced beyond its map's own reference? */
static bool ivs_pages_pinned(struct ivs_dev *d)
{
	unsigned long i, n = d->size >> PAGE_SHIFT;
	struct page *page = pfn_to_page(PHYS_PFN(d->phys));

	for (i = 0; i < n; i++)
		if (page_ref_count(page + i) != 1)
			return true;
	return false;
}

/*
 * devm action: release BAR2's struct pages.  Mappings are gone
 * (remove() zapped them), but get_user_pages() references may remain: a
 * pipe holding vmsplice()d pages, io_uring's registered buffers.  Freeing
 * the memmap under them would be a use after free, so wait a little and,
 * if they are still held, leak the page map (and its memmap) instead: the
 * memory is the device's, nothing but the memmap is lost.
 */
static void ivs_unmap_pages(void *data)
{
	struct ivs_dev *d = data;
	unsigned long i, n = d->size >> PAGE_SHIFT;
	struct page *page = pfn_to_page(PHYS_PFN(d->phys));
	int waited;

	for (i = 0; i < n; i++)
		page[i].mapping = NULL;	/* the inode goes with the device */
	for (waited = 0; ivs_pages_pinned(d) && waited < IVS_PIN_WAIT_MS;
	     waited += 100)
		msleep(100);
	if (ivs_pages_pinned(d)) {
		dev_warn(&d->pdev->dev,
			 "BAR2 pages still pinned: their page map is leaked\n");
		return;
	}
	memunmap_pages(d->pgmap);
	kfree(d->pgmap);
	d->pgmap = NULL;
}

/*
 * Give BAR2 struct pages, as device-dax does for its memory: a
 * MEMORY_DEVICE_GENERIC page map (memremap_pages() also maps it in the
 * kernel's direct map and reserves that memory type: write-back, unless
 * the guest's MTRRs make the range uncachable, then PAT gives UC-),
 * user mappings of devmap PTEs (ivs_fault()), and every page's ->mapping
 * and ->index set to this device's inode and page offset.  That is what
 * the futex code needs to key a shared futex: get_user_pages() must find
 * a page and the page must name its address_space and index (fsdax and
 * device-dax pages do, raw PFN mappings cannot), so process-shared
 * mutexes, condvars, semaphores and robust lists work in the mapping.
 *
 * Needs CONFIG_ZONE_DEVICE (Debian's 6.1 and 6.12 have it) and a BAR2
 * aligned to a memory subsection (2 MiB) in address and size, which
 * memory hotplug requires; QEMU's BAR2 is a power of two aligned to its
 * size, so any 2 MiB or larger region qualifies.  Returns -EOPNOTSUPP
 * when it does not, and the driver maps raw PFNs as before.
 */
static int ivs_map_pages(struct ivs_dev *d)
{
	struct device *dev = &d->pdev->dev;
	unsigned long i, n = d->size >> PAGE_SHIFT;
	struct dev_pagemap *pgmap;
	struct page *page;
	void *mem;

	if (!IS_ALIGNED(d->phys | d->size, SUBSECTION_SIZE))
		return -EOPNOTSUPP;
	/* a map an earlier binding had to leak (memremap_pages() WARNs) */
	pgmap = get_dev_pagemap(PHYS_PFN(d->phys), NULL);
	if (!pgmap)
		pgmap = get_dev_pagemap(PHYS_PFN(d->phys + d->size - 1), NULL);
	if (pgmap) {
		put_dev_pagemap(pgmap);
		return -EOPNOTSUPP;
	}
	d->pgmap = kzalloc(sizeof(*d->pgmap), GFP_KERNEL);
	if (!d->pgmap)
		return -ENOMEM;
	d->pgmap->type = MEMORY_DEVICE_GENERIC;
	d->pgmap->range.start = d->phys;
	d->pgmap->range.end = d->phys + d->size - 1;
	d->pgmap->nr_range = 1;
	mem = memremap_pages(d->pgmap, dev_to_node(dev));
	if (IS_ERR(mem)) {
		kfree(d->pgmap);
		d->pgmap = NULL;
		return PTR_ERR(mem);
	}
	page = pfn_to_page(PHYS_PFN(d->phys));
	for (i = 0; i < n; i++) {
		page[i].mapping = d->inode->i_mapping;
		page[i].index = i;
	}
	/*
	 * A DAX inode, like device-dax's: the fault path then offers PMD
	 * faults to ivs_huge_fault() (on 6.1 only for DAX mappings, whatever
	 * the THP sysfs setting).  A character-device mode, also like
	 * device-dax's, so that it is not taken for fsdax, whose mappings
	 * refuse long-term pins (io_uring's registered buffers).  No effect
	 * without CONFIG_FS_DAX (S_DAX is 0): 4 KiB pages only.
	 */
	d->inode->i_flags |= S_DAX;
	d->inode->i_mode = S_IFCHR | 0600;
	d->mem = mem;
	return devm_add_action_or_reset(dev, ivs_unmap_pages, d);
}
#else
static int ivs_map_pages(struct ivs_dev *d)
{
	return -EOPNOTSUPP;
}
#endif

/* BAR2 without struct pages: memremap() write-back, raw PFNs to users. */
static int ivs_map_pfns(struct ivs_dev *d)
{
	d->mem = memremap(d->phys, d->size, MEMREMAP_WB);
	if (!d->mem)
		return -ENOMEM;
	return devm_add_action_or_reset(&d->pdev->dev, ivs_memunmap, d->mem);
}

/* BAR0 (registers) and BAR2 (memory, write-back), released by devm. */
static int ivs_map_bars(struct ivs_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	struct device *dev = &pdev->dev;
	int ret;

	d->size = pci_resource_len(pdev, IVS_BAR_MEM);
	d->phys = pci_resource_start(pdev, IVS_BAR_MEM);
	if (!d->size || !PAGE_ALIGNED(d->size) || !PAGE_ALIGNED(d->phys) ||
	    pci_resource_len(pdev, IVS_BAR_REGS) < IVS_REGS_MIN_LEN) {
		dev_err(dev, "unexpected BARs (BAR2 %pa bytes)\n", &d->size);
		return -ENODEV;
	}
	d->regs = kipc_pcim_iomap_region(pdev, IVS_BAR_REGS, KBUILD_MODNAME);
	if (IS_ERR(d->regs))
		return PTR_ERR(d->regs);
	if (!devm_request_mem_region(dev, d->phys, d->size, KBUILD_MODNAME))
		return -EBUSY;
	ret = struct_pages ? ivs_map_pages(d) : -EOPNOTSUPP;
	if (ret == -EOPNOTSUPP) {
		dev_info(dev, "BAR2 without struct pages: no shared futexes\n");
		ret = ivs_map_pfns(d);
	}
	return ret;
}

/* One MSI-X vector per doorbell vector (none on ivshmem-plain). */
static int ivs_setup_irqs(struct ivs_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	unsigned int v;
	int ret, nvec;

	nvec = pci_msix_vec_count(pdev);
	if (nvec <= 0)
		return 0;
	nvec = min(nvec, KIPC_IVSHMEM_MAX_VECTORS);
	/* pcim: the vectors are freed on unbind or a failed probe */
	ret = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	for (v = 0; v < nvec; v++) {
		d->vec[v].dev = d;
		d->vec[v].irq = pci_irq_vector(pdev, v);
		ret = devm_request_irq(&pdev->dev, d->vec[v].irq, ivs_irq, 0,
				       d->name, &d->vec[v]);
		if (ret)
			return ret;
	}
	d->vectors = nvec;
	pci_set_master(pdev);
	return 0;
}

static int ivs_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ivs_dev *d;
	unsigned int v;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	kref_init(&d->kref);
	mutex_init(&d->lock);
	INIT_LIST_HEAD(&d->files);
	for (v = 0; v < KIPC_IVSHMEM_MAX_VECTORS; v++)
		init_waitqueue_head(&d->vec[v].wq);
	d->pdev = pdev;
	d->index = -1;
	ret = init_srcu_struct(&d->srcu);
	if (ret) {
		kfree(d);
		return ret;
	}
	/* From here on devm undoes everything, this last. */
	ret = devm_add_action_or_reset(&pdev->dev, ivs_put_binding, d);
	if (ret)
		return ret;
	d->index = ida_alloc(&ivs_ida, GFP_KERNEL);
	if (d->index < 0)
		return d->index;
	snprintf(d->name, sizeof(d->name), "ivshmem%d", d->index);
	snprintf(d->stable, sizeof(d->stable), "ivshmem-%s", pci_name(pdev));
	d->inode = alloc_anon_inode(ivs_mnt->mnt_sb);
	if (IS_ERR(d->inode))
		return PTR_ERR(d->inode);
	d->inode->i_mapping->a_ops = &ivs_aops;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = ivs_map_bars(d);
	if (ret)
		return ret;
	d->peer_id = ioread32(d->regs + IVS_REG_IVPOSITION);
	ret = ivs_setup_irqs(d);
	if (ret)
		return ret;

	d->misc = (struct miscdevice){
		.minor = MISC_DYNAMIC_MINOR,
		.name = d->name,
		.fops = &ivs_fops,
		.parent = &pdev->dev,
		.groups = ivs_groups,
		.mode = 0600,
	};
	pci_set_drvdata(pdev, d);
	ret = misc_register(&d->misc);
	if (ret)
		return ret;
	dev_info(&pdev->dev, "/dev/%s: %pa bytes, peer %u, %u vectors\n",
		 d->name, &d->size, d->peer_id, d->vectors);
	return 0;
}

/*
 * Unbind, hot-unplug, module unload.  After it devm frees the irqs and
 * vectors, unmaps the BARs, disables the device and drops the binding's
 * reference; open files keep struct ivs_dev until they close.
 */
static void ivs_remove(struct pci_dev *pdev)
{
	struct ivs_dev *d = pci_get_drvdata(pdev);

	struct ivs_file *f;
	unsigned int v;

	misc_deregister(&d->misc);	/* no new opens */
	WRITE_ONCE(d->dead, true);
	synchronize_srcu(&d->srcu);	/* no fault, copy or ring in flight */
	unmap_mapping_range(d->inode->i_mapping, 0, 0, 1);
	for (v = 0; v < d->vectors; v++)
		wake_up_all(&d->vec[v].wq);
	mutex_lock(&d->lock);
	list_for_each_entry(f, &d->files, node)
		wake_up_all(&f->poll_wq);
	mutex_unlock(&d->lock);
	dev_info(&pdev->dev, "/dev/%s removed\n", d->name);
}

static const struct pci_device_id ivs_ids[] = {
	{ PCI_DEVICE(IVS_VENDOR_ID, IVS_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ivs_ids);

static struct pci_driver ivs_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ivs_ids,
	.probe = ivs_probe,
	.remove = ivs_remove,
};

static int __init ivs_init(void)
{
	int ret;

	ivs_mnt = kern_mount(&ivs_fs_type);
	if (IS_ERR(ivs_mnt))
		return PTR_ERR(ivs_mnt);
	ret = pci_register_driver(&ivs_driver);
	if (ret)
		kern_unmount(ivs_mnt);
	return ret;
}
module_init(ivs_init);

/* Every device is unbound and every file closed: no inode is left. */
static void __exit ivs_exit(void)
{
	pci_unregister_driver(&ivs_driver);
	kern_unmount(ivs_mnt);
}
module_exit(ivs_exit);

MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc contributors");
MODULE_DESCRIPTION("kipc: ivshmem guest driver (myshm interface, doorbells)");
