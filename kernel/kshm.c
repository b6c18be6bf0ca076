// SPDX-License-Identifier: GPL-2.0
/*
 * kshm.c - named shared memory for kipc.
 *
 * Processes share memory by name.  KSHM_IOC_OPEN on the control device
 * /dev/kshm opens or creates the object called NAME and returns a new file
 * descriptor (an anon inode file) for it.  KSHM_IOC_TRUNC on that
 * descriptor gives the object its size once, allocating zeroed pages, and
 * mmap(MAP_SHARED) on it maps those pages.  Every mapping holds a
 * reference to the object's file, so the kernel's own file and VMA
 * reference counting decides when the object dies: when its last open
 * file is released (every descriptor closed, every mapping gone), the
 * object, its pages and its name are freed.
 *
 * Limits (module parameters, fixed at load time): max_objects live objects
 * (ENOSPC), max_pages pages per object (EFBIG) and max_per_process open
 * files per thread group (EMFILE).  An open is charged to the thread group
 * that made it until that open file is finally released, so dup() and
 * fork() copies do not count again, and a child's own opens count against
 * the child.
 *
 * Permissions: an object records its creator's fsuid/fsgid and a mode;
 * opening it needs read (and write for KSHM_RDWR) permission from the
 * owner, group or other bits, or CAP_IPC_OWNER.
 *
 * /proc/kshm lists the live objects and the module's counters.
 *
 * Memory: an object's pages are pages of a shmem (tmpfs) file that the
 * module shares between up to KSHM_FILE_SLOTS objects (shmem_file_setup(),
 * on the kernel's internal tmpfs mount, VM_NORESERVE: pages are accounted
 * as they are allocated).  KSHM_IOC_TRUNC gives the object a fresh slot of
 * max_pages page indices (see kshm_slot_get() for why never a used one)
 * and allocates and pins all its pages at once (kipc_shmem_pin();
 * kipc_shmem.h says why shmem and what pinned means); the object's death
 * unpins them and punches its slot out of the file
 * (shmem_truncate_range()).
 *
 * Mappings: the pages are inserted here (vm_insert_pages() at mmap time,
 * like drivers/dma-buf/udmabuf.c serves shmem pages), not delegated to
 * the shmem file with vma_set_file() and its mmap: a delegated VMA would
 * hold the shmem file instead of the object's file, so mappings would no
 * longer keep the object (its name, its counts, KSHM_IOC_INFO's maps) and
 * the module alive, and every first touch would take a page fault where
 * kshm maps the whole object at mmap.  Objects are small (max_pages,
 * default 32 pages), so huge pages would not pay; the VMA is VM_MIXEDMAP
 * and PTE-mapped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>

#include <kipc/kshm_ioctl.h>

#include "kipc_compat.h"
#include "kipc_shmem.h"

/* Largest accepted max_pages: sizes must fit the library's int result. */
#define KSHM_PAGES_LIMIT	65536

static unsigned int max_objects = 64;
module_param(max_objects, uint, 0444);
MODULE_PARM_DESC(max_objects, "Most live objects (default 64)");

static unsigned int max_pages = 32;
module_param(max_pages, uint, 0444);
MODULE_PARM_DESC(max_pages, "Most pages per object (default 32)");

static unsigned int max_per_process = 16;
module_param(max_per_process, uint, 0444);
MODULE_PARM_DESC(max_per_process,
		 "Most objects a process holds open (default 16)");

/*
 * Objects one user (the creator's fsuid) may own; 0 until the load, where
 * an unset value becomes a quarter of max_objects (at least 1), so that on
 * a default install (/dev/kshm is 0666) one user cannot take every object
 * (as fs.pipe-user-pages-soft and message_slot's user_max_mem leave room
 * for others).  Callers with CAP_SYS_RESOURCE or CAP_SYS_ADMIN are not
 * limited, as for pipes.  Set explicitly, 0 or more than max_objects
 * fails the load.
 */
static unsigned int max_per_user;
static bool max_per_user_set;

static int kshm_set_per_user(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint(val, kp);

	if (!err)
		max_per_user_set = true;
	return err;
}

static const struct kernel_param_ops kshm_per_user_ops = {
	.set = kshm_set_per_user,
	.get = param_get_uint,
};

module_param_cb(max_per_user, &kshm_per_user_ops, &max_per_user, 0444);
MODULE_PARM_DESC(max_per_user,
		 "Most objects one unprivileged user owns (default max_objects/4, at least 1)");

/*
 * Like fs.protected_regular for /tmp and POSIX shm: an open with
 * KSHM_CREAT but without KSHM_EXCL of an object another user owns is
 * refused (EACCES), so nobody can plant an object under a name a program
 * (root's, say) will open-or-create.  Off: xv6-style sharing between users
 * through kshm_open()'s open-or-create.
 */
static bool protected_names = true;
module_param(protected_names, bool, 0444);
MODULE_PARM_DESC(protected_names,
		 "Refuse KSHM_CREAT without KSHM_EXCL on another user's object (default Y)");

/**
 * struct kshm_obj - a named shared memory object
 * @node:   entry in kshm_objects (kshm_lock)
 * @hash:   full_name_hash() of @name
 * @opens:  open files of this object (kshm_lock); 0 means dead
 * @maps:   VMAs mapping this object, in all processes
 * @uid:    creator's fsuid
 * @gid:    creator's fsgid
 * @mode:   permission bits
 * @lock:   serializes KSHM_IOC_TRUNC, i.e. the one write of @pages and
 *          @npages
 * @shmem:  the shmem file holding the pages (a reference of the object);
 *          set with @pages
 * @first:  the index of the object's first page in @shmem
 * @pages:  the object's pages, each with a reference of the object; valid
 *          once @npages is non-zero
 * @npages: size in pages; 0 until sized, then never changes (written with
 *          smp_store_release() under @lock, read with smp_load_acquire())
 * @name:   the name, without a leading '/'
 */
struct kshm_obj {
	struct hlist_node node;
	u32 hash;
	unsigned int opens;
	atomic_t maps;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct mutex lock;	/* protects the sizing of @pages/@npages */
	struct file *shmem;
	pgoff_t first;
	struct page **pages;
	unsigned long npages;
	char name[KSHM_NAME_MAX + 1];
};

/**
 * struct kshm_owner - the open files one thread group is charged with
 * @node:  entry in kshm_owners (kshm_lock)
 * @tgid:  the thread group (a counted reference, so the pointer stays
 *         unique while the entry exists)
 * @count: open files charged to it (kshm_lock)
 */
struct kshm_owner {
	struct hlist_node node;
	struct pid *tgid;
	unsigned int count;
};

/**
 * struct kshm_file - private data of one open object file
 * @obj:   the object
 * @owner: the thread group charged with this open file
 */
struct kshm_file {
	struct kshm_obj *obj;
	struct kshm_owner *owner;
};

/* Protects kshm_objects, kshm_owners, kshm_nobjects, kshm_nowners and
 * the @opens and @count fields of their entries.
 */
static DEFINE_MUTEX(kshm_lock);
static DEFINE_HASHTABLE(kshm_objects, 6);
static DEFINE_HASHTABLE(kshm_owners, 6);
static unsigned int kshm_nobjects;
static unsigned int kshm_nowners;
/* Pages held by all objects together. */
static atomic_long_t kshm_npages = ATOMIC_LONG_INIT(0);
/*
 * Objects one shmem file serves (kshm_slot_get()).  A new file costs about
 * as much as an open-trunc-map-close cycle (one file per object halved
 * the cycle rate), so one per 256 objects should cost about 0.4%.
 */
#define KSHM_FILE_SLOTS	256

/* Protects kshm_shmem and kshm_shmem_used. */
static DEFINE_MUTEX(kshm_shmem_lock);
/* The shmem file new objects get their slots in; set up at load. */
static struct file *kshm_shmem;
/* Slots of kshm_shmem given out so far (never given again). */
static unsigned int kshm_shmem_used;

/*
 * Validate the NUL-terminated name in BUF (KSHM_NAME_BUF bytes); on success
 * point *NAME at it without its leading '/' and return its length.
 */
static int kshm_name_check(const char *buf, const char **name)
{
	size_t len = strnlen(buf, KSHM_NAME_BUF);
	size_t i;

	if (len == KSHM_NAME_BUF)
		return -ENAMETOOLONG;
	if (buf[0] == '/') {
		buf++;
		len--;
	}
	if (!len)
		return -EINVAL;
	if (len > KSHM_NAME_MAX)
		return -ENAMETOOLONG;
	/* any byte but '/' (NUL ends the name), as xv6 and shm_open allow */
	for (i = 0; i < len; i++)
		if (buf[i] == '/')
			return -EINVAL;
	*name = buf;
	return len;
}

/* Called with kshm_lock held. */
static struct kshm_obj *kshm_lookup(const char *name, u32 hash)
{
	struct kshm_obj *obj;

	hash_for_each_possible(kshm_objects, obj, node, hash)
		if (obj->hash == hash && !strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* May the caller open OBJ with MASK (MAY_READ, MAY_WRITE)? */
static bool kshm_may_open(const struct kshm_obj *obj, int mask)
{
	unsigned int mode = obj->mode;

	if (uid_eq(current_fsuid(), obj->uid))
		mode >>= 6;
	else if (in_group_p(obj->gid))
		mode >>= 3;
	if (!(mask & ~mode & (MAY_READ | MAY_WRITE)))
		return true;
	return capable(CAP_IPC_OWNER);
}

/* kshm_may_open(OBJ, MAY_READ) without the capability (or its audit). */
static bool kshm_may_list(const struct kshm_obj *obj)
{
	unsigned int mode = obj->mode;

	if (uid_eq(current_fsuid(), obj->uid))
		mode >>= 6;
	else if (in_group_p(obj->gid))
		mode >>= 3;
	return mode & MAY_READ;
}

/*
 * May the caller's fsuid create another object (max_per_user)?  Called
 * with kshm_lock held.
 */
static bool kshm_user_may_create(void)
{
	kuid_t uid = current_fsuid();
	struct kshm_obj *obj;
	unsigned int n = 0;
	int bkt;

	hash_for_each(kshm_objects, bkt, obj, node)
		n += uid_eq(obj->uid, uid);
	if (n < max_per_user)
		return true;
	/* only at the limit: capable() may audit a refusal */
	return capable(CAP_SYS_RESOURCE) || capable(CAP_SYS_ADMIN);
}

/*
 * Charge one open file to the calling thread group.  Called with
 * kshm_lock held; returns the owner or an ERR_PTR (-EMFILE, -ENOMEM).
 */
static struct kshm_owner *kshm_owner_charge(void)
{
	struct pid *tgid = task_tgid(current);
	struct kshm_owner *owner;

	hash_for_each_possible(kshm_owners, owner, node, (unsigned long)tgid) {
		if (owner->tgid != tgid)
			continue;
		if (owner->count >= max_per_process)
			return ERR_PTR(-EMFILE);
		owner->count++;
		return owner;
	}
	owner = kzalloc(sizeof(*owner), GFP_KERNEL_ACCOUNT);
	if (!owner)
		return ERR_PTR(-ENOMEM);
	owner->tgid = get_pid(tgid);
	owner->count = 1;
	hash_add(kshm_owners, &owner->node, (unsigned long)tgid);
	kshm_nowners++;
	return owner;
}

/* Called with kshm_lock held. */
static void kshm_owner_uncharge(struct kshm_owner *owner)
{
	if (--owner->count)
		return;
	hash_del(&owner->node);
	kshm_nowners--;
	put_pid(owner->tgid);
	kfree(owner);
}

/* Called with kshm_lock held; the object starts with no opens. */
static struct kshm_obj *kshm_obj_create(const char *name, u32 hash,
					umode_t mode)
{
	struct kshm_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);

	if (!obj)
		return NULL;
	obj->hash = hash;
	strscpy(obj->name, name, sizeof(obj->name));
	obj->uid = current_fsuid();
	obj->gid = current_fsgid();
	obj->mode = mode;
	mutex_init(&obj->lock);
	hash_add(kshm_objects, &obj->node, hash);
	kshm_nobjects++;
	return obj;
}

/* The object's size in pages; 0 until sized.  Pairs with kshm_ioc_trunc. */
static unsigned long kshm_obj_npages(const struct kshm_obj *obj)
{
	/* acquire: see @pages filled in once @npages is non-zero */
	return smp_load_acquire(&obj->npages);
}

/* A shmem file for KSHM_FILE_SLOTS slots, or an ERR_PTR. */
static struct file *kshm_shmem_new(void)
{
	loff_t size = (loff_t)KSHM_FILE_SLOTS * max_pages << PAGE_SHIFT;
	struct file *shmem;

	/* VM_NORESERVE: no commit for the size, each page when allocated */
	shmem = shmem_file_setup("kshm", size, VM_NORESERVE);
	if (!IS_ERR(shmem))
		kipc_shmem_set_pinned(shmem->f_mapping);
	return shmem;
}

/*
 * A slot that no object used before: returns its shmem file (a new
 * reference) and sets *FIRST to its first page index, or an ERR_PTR.
 *
 * Never a used one, because a process-shared futex is keyed by the shmem
 * inode and the page index (kipc_shmem.h): a thread can sleep in
 * FUTEX_WAIT (or hold PI state) on an object that died under it (another
 * thread unmapped it), and a later object in the same slot, maybe another
 * user's, would reach that waiter with its FUTEX_WAKE.  So slots are given
 * in order and a freed one stays a hole; after KSHM_FILE_SLOTS a new file,
 * a new inode and so a new key space, takes over, and the old one lives
 * on only as long as its objects (each holds a reference).
 */
static struct file *kshm_slot_get(pgoff_t *first)
{
	struct file *shmem;

	mutex_lock(&kshm_shmem_lock);
	if (kshm_shmem_used == KSHM_FILE_SLOTS) {
		shmem = kshm_shmem_new();
		if (IS_ERR(shmem))
			goto out_unlock;
		fput(kshm_shmem);
		kshm_shmem = shmem;
		kshm_shmem_used = 0;
	}
	*first = (pgoff_t)kshm_shmem_used++ * max_pages;
	shmem = get_file(kshm_shmem);
out_unlock:
	mutex_unlock(&kshm_shmem_lock);
	return shmem;
}

/*
 * Punch the slot at FIRST out of SHMEM (its pages unpinned; the indices
 * are never used again) and drop the reference kshm_slot_get() gave.
 */
static void kshm_slot_put(struct file *shmem, pgoff_t first)
{
	struct inode *inode = file_inode(shmem);
	loff_t start = (loff_t)first << PAGE_SHIFT;

	/* like a hole punch (shmem_fallocate()), under the inode lock */
	inode_lock(inode);
	shmem_truncate_range(inode, start,
			     start + ((loff_t)max_pages << PAGE_SHIFT) - 1);
	inode_unlock(inode);
	fput(shmem);
}

static void kshm_obj_free(struct kshm_obj *obj)
{
	if (obj->pages) {
		kipc_shmem_unpin(obj->pages, obj->npages);
		kshm_slot_put(obj->shmem, obj->first);
	}
	atomic_long_sub(obj->npages, &kshm_npages);
	mutex_destroy(&obj->lock);
	kfree(obj);
}

/* Drop one open file of an object: uncharge it, maybe free the object. */
static void kshm_file_put(struct kshm_file *kf)
{
	struct kshm_obj *obj = kf->obj;

	mutex_lock(&kshm_lock);
	kshm_owner_uncharge(kf->owner);
	if (--obj->opens) {
		obj = NULL;
	} else {
		hash_del(&obj->node);
		kshm_nobjects--;
	}
	mutex_unlock(&kshm_lock);
	if (obj)
		kshm_obj_free(obj);
	kfree(kf);
}

static int kshm_release(struct inode *inode, struct file *file)
{
	kshm_file_put(file->private_data);
	return 0;
}

static long kshm_ioc_trunc(struct file *file, struct kshm_obj *obj,
			   struct kshm_trunc_args __user *uarg)
{
	struct kshm_trunc_args args;
	struct file *shmem;
	struct page **pages;
	unsigned long n;
	pgoff_t first;
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (!args.size)
		return -EINVAL;
	if (args.size > (u64)max_pages << PAGE_SHIFT)
		return -EFBIG;
	n = (args.size + PAGE_SIZE - 1) >> PAGE_SHIFT;

	mutex_lock(&obj->lock);
	ret = -EBUSY;
	if (obj->npages)
		goto out_unlock;
	/* the documented error, whatever shmem said */
	ret = -ENOMEM;
	shmem = kshm_slot_get(&first);
	if (IS_ERR(shmem))
		goto out_unlock;
	pages = kipc_shmem_pin(shmem->f_mapping, first, n, GFP_HIGHUSER);
	if (IS_ERR(pages))
		goto out_slot;
	/* Report before publishing, so a fault here leaves no trace. */
	args.size = (u64)n << PAGE_SHIFT;
	ret = -EFAULT;
	if (copy_to_user(uarg, &args, sizeof(args)))
		goto out_unpin;
	obj->shmem = shmem;
	obj->first = first;
	obj->pages = pages;
	atomic_long_add(n, &kshm_npages);
	/* release: @pages is complete before anyone sees @npages */
	smp_store_release(&obj->npages, n);
	mutex_unlock(&obj->lock);
	return 0;

out_unpin:
	kipc_shmem_unpin(pages, n);
out_slot:
	kshm_slot_put(shmem, first);
out_unlock:
	mutex_unlock(&obj->lock);
	return ret;
}

static long kshm_ioc_info(struct kshm_obj *obj, struct kshm_info __user *uarg)
{
	struct user_namespace *ns = current_user_ns();
	struct kshm_info info = {};

	info.size = (u64)kshm_obj_npages(obj) << PAGE_SHIFT;
	info.uid = from_kuid_munged(ns, obj->uid);
	info.gid = from_kgid_munged(ns, obj->gid);
	info.mode = obj->mode;
	mutex_lock(&kshm_lock);
	info.opens = obj->opens;
	mutex_unlock(&kshm_lock);
	info.maps = atomic_read(&obj->maps);
	strscpy(info.name, obj->name, sizeof(info.name));
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * KSHM_IOC_MAPPED: the first part of [addr, addr + len) that the calling
 * process maps from FILE (one run of adjacent VMAs), or len 0.
 */
static long kshm_ioc_mapped(struct file *file,
			    struct kshm_range __user *uarg)
{
	unsigned long start, end, found = 0, found_end = 0;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct kshm_range r;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (!r.len || r.addr & ~PAGE_MASK || r.addr >= TASK_SIZE ||
	    r.len > TASK_SIZE - r.addr)
		return -EINVAL;
	start = r.addr;
	end = PAGE_ALIGN(r.addr + r.len);
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_file != file ||
		    (found_end && vma->vm_start != found_end)) {
			if (found_end)
				break;
			continue;
		}
		if (!found_end)
			found = max(vma->vm_start, start);
		found_end = min(vma->vm_end, end);
	}
	mmap_read_unlock(mm);
	r.addr = found;
	r.len = found_end - found;
	return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}

static long kshm_obj_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct kshm_file *kf = file->private_data;

	switch (cmd) {
	case KSHM_IOC_TRUNC:
		return kshm_ioc_trunc(file, kf->obj, (void __user *)arg);
	case KSHM_IOC_INFO:
		return kshm_ioc_info(kf->obj, (void __user *)arg);
	case KSHM_IOC_MAPPED:
		return kshm_ioc_mapped(file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static void kshm_vm_open(struct vm_area_struct *vma)
{
	struct kshm_obj *obj = vma->vm_private_data;

	atomic_inc(&obj->maps);
}

static void kshm_vm_close(struct vm_area_struct *vma)
{
	struct kshm_obj *obj = vma->vm_private_data;

	atomic_dec(&obj->maps);
}

/* Pages are inserted at mmap time; this refills PTEs that were zapped. */
static vm_fault_t kshm_vm_fault(struct vm_fault *vmf)
{
	struct kshm_obj *obj = vmf->vma->vm_private_data;

	return kipc_shmem_fault(vmf, obj->pages, kshm_obj_npages(obj));
}

static const struct vm_operations_struct kshm_vm_ops = {
	.open = kshm_vm_open,
	.close = kshm_vm_close,
	.fault = kshm_vm_fault,
};

static int kshm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kshm_file *kf = file->private_data;
	struct kshm_obj *obj = kf->obj;
	unsigned long npages = kshm_obj_npages(obj);
	unsigned long count = vma_pages(vma);
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= npages || count > npages - vma->vm_pgoff)
		return -EINVAL;
	/* A read-only mapping stays read-only: mprotect() cannot lift it. */
	if (!(vma->vm_flags & VM_WRITE))
		kipc_vm_flags_clear(vma, VM_MAYWRITE);
	kipc_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND);
	/* Map every page now: no page faults on first touch. */
	ret = vm_insert_pages(vma, vma->vm_start, obj->pages + vma->vm_pgoff,
			      &count);
	if (ret)
		return ret;	/* the caller zaps what was inserted */
	/* Only now: a VMA that failed here must not reach kshm_vm_close(). */
	vma->vm_private_data = obj;
	vma->vm_ops = &kshm_vm_ops;
	atomic_inc(&obj->maps);
	return 0;
}

static const struct file_operations kshm_obj_fops = {
	.owner = THIS_MODULE,
	.release = kshm_release,
	.mmap = kshm_mmap,
	.unlocked_ioctl = kshm_obj_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static long kshm_ioc_open(struct kshm_open_args __user *uarg)
{
	struct kshm_open_args args;
	struct kshm_owner *owner;
	struct kshm_file *kf;
	struct kshm_obj *obj;
	const char *name;
	int len, mask, oflags, fd;
	u32 hash;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KSHM_FLAGS_ALL || args.mode & ~KSHM_MODE_MASK)
		return -EINVAL;
	if ((args.flags & (KSHM_CREAT | KSHM_EXCL)) == KSHM_EXCL)
		return -EINVAL;
	len = kshm_name_check(args.name, &name);
	if (len < 0)
		return len;
	hash = full_name_hash(NULL, name, len);
	mask = MAY_READ;
	oflags = O_RDONLY;
	if (args.flags & KSHM_RDWR) {
		mask |= MAY_WRITE;
		oflags = O_RDWR;
	}
	if (args.flags & KSHM_CLOEXEC)
		oflags |= O_CLOEXEC;

	kf = kzalloc(sizeof(*kf), GFP_KERNEL_ACCOUNT);
	if (!kf)
		return -ENOMEM;
	mutex_lock(&kshm_lock);
	obj = kshm_lookup(name, hash);
	if (obj) {
		fd = -EEXIST;
		if ((args.flags & KSHM_EXCL))
			goto out_unlock;
		fd = -EACCES;
		/* name squatting: see protected_names */
		if ((args.flags & KSHM_CREAT) && READ_ONCE(protected_names) &&
		    !uid_eq(obj->uid, current_fsuid()))
			goto out_unlock;
		if (!kshm_may_open(obj, mask))
			goto out_unlock;
	} else {
		fd = -ENOENT;
		if (!(args.flags & KSHM_CREAT))
			goto out_unlock;
		fd = -ENOSPC;
		if (kshm_nobjects >= max_objects || !kshm_user_may_create())
			goto out_unlock;
	}
	owner = kshm_owner_charge();
	if (IS_ERR(owner)) {
		fd = PTR_ERR(owner);
		goto out_unlock;
	}
	if (!obj) {
		obj = kshm_obj_create(name, hash,
				      args.mode & ~current_umask());
		if (!obj) {
			kshm_owner_uncharge(owner);
			fd = -ENOMEM;
			goto out_unlock;
		}
	}
	obj->opens++;
	mutex_unlock(&kshm_lock);

	kf->obj = obj;
	kf->owner = owner;
	fd = anon_inode_getfd("[kshm]", &kshm_obj_fops, kf, oflags);
	if (fd < 0)
		kshm_file_put(kf);
	return fd;

out_unlock:
	mutex_unlock(&kshm_lock);
	kfree(kf);
	return fd;
}

static long kshm_ctl_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	if (cmd == KSHM_IOC_OPEN)
		return kshm_ioc_open((void __user *)arg);
	return -ENOTTY;
}

static const struct file_operations kshm_ctl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = kshm_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kshm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kshm",
	.fops = &kshm_ctl_fops,
	.mode = 0666,
};

/*
 * Print NAME with every byte outside 0x20-0x7e, and '\\', as a backslash
 * and three octal digits ("\\012"), so a name cannot end or forge a line
 * of the listing and the escaped form is unambiguous.
 */
static void kshm_seq_name(struct seq_file *m, const char *name)
{
	for (; *name; name++) {
		unsigned char c = *name;

		if (c < 0x20 || c > 0x7e || c == '\\')
			seq_printf(m, "\\%03o", c);
		else
			seq_putc(m, c);
	}
}

static int kshm_proc_show(struct seq_file *m, void *v)
{
	struct user_namespace *ns = seq_user_ns(m);
	bool owner = ns_capable_noaudit(&init_user_ns, CAP_IPC_OWNER);
	struct kshm_obj *obj;
	int bkt;

	mutex_lock(&kshm_lock);
	seq_printf(m,
		   "# objects=%u max_objects=%u pages=%ld max_pages=%u processes=%u max_per_process=%u max_per_user=%u\n",
		   kshm_nobjects, max_objects, atomic_long_read(&kshm_npages),
		   max_pages, kshm_nowners, max_per_process, max_per_user);
	seq_puts(m, "SIZE UID GID MODE OPENS MAPS NAME\n");
	hash_for_each(kshm_objects, bkt, obj, node) {
		/* only what the reader may open (read), unless CAP_IPC_OWNER */
		if (!owner && !kshm_may_list(obj))
			continue;
		seq_printf(m, "%lu %u %u %04o %u %d ",
			   kshm_obj_npages(obj) << PAGE_SHIFT,
			   from_kuid_munged(ns, obj->uid),
			   from_kgid_munged(ns, obj->gid), obj->mode,
			   obj->opens, atomic_read(&obj->maps));
		kshm_seq_name(m, obj->name);
		seq_putc(m, '\n');
	}
	mutex_unlock(&kshm_lock);
	return 0;
}

static int __init kshm_init(void)
{
	int ret;

	if (!max_objects || !max_per_process || !max_pages ||
	    max_pages > KSHM_PAGES_LIMIT) {
		pr_err("bad limits: max_objects=%u max_per_process=%u max_pages=%u (1..%u)\n",
		       max_objects, max_per_process, max_pages,
		       KSHM_PAGES_LIMIT);
		return -EINVAL;
	}
	if (!max_per_user_set)
		max_per_user = max(max_objects / 4, 1U);
	if (!max_per_user || max_per_user > max_objects) {
		pr_err("bad limit: max_per_user=%u (1..max_objects=%u)\n",
		       max_per_user, max_objects);
		return -EINVAL;
	}
	kshm_shmem = kshm_shmem_new();
	if (IS_ERR(kshm_shmem)) {
		/* shmem says ENOSPC when it cannot allocate the inode */
		kshm_shmem = NULL;
		return -ENOMEM;
	}
	ret = misc_register(&kshm_misc);
	if (ret)
		goto out_shmem;
	if (!proc_create_single("kshm", 0444, NULL, kshm_proc_show)) {
		ret = -ENOMEM;
		goto out_misc;
	}
	return 0;

out_misc:
	misc_deregister(&kshm_misc);
out_shmem:
	fput(kshm_shmem);
	return ret;
}

static void __exit kshm_exit(void)
{
	remove_proc_entry("kshm", NULL);
	misc_deregister(&kshm_misc);
	fput(kshm_shmem);
}

module_init(kshm_init);
module_exit(kshm_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc contributors");
MODULE_DESCRIPTION("kipc: named shared memory objects (/dev/kshm)");
