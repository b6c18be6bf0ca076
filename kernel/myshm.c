// SPDX-License-Identifier: GPL-2.0
/*
 * myshm - kernel memory buffers shared through character devices.
 *
 * Every buffer is one misc device (/dev/<name>, dynamic minor, mode 0600)
 * backed by a shmem (tmpfs) file that the module creates at load on a
 * private tmpfs mount and drops at unload.  Processes share it with
 * mmap(MAP_SHARED); read(), write() and lseek() show the same bytes;
 * ioctl(MYSHM_GET_SIZE) and the sysfs attribute "size" tell its size.  The
 * ABI is in <kipc/myshm.h>.
 *
 * Module parameters (validated completely before anything is allocated;
 * any error fails the load with -EINVAL and one kernel log line):
 *   size=N[K|M|G]         size of buffers that do not give one (default 4M)
 *   buffers=name[:N[K|M|G][:TEXT]],...
 *                         the buffers to create; default: one "myshm".
 *                         TEXT is what the buffer starts with, the
 *                         rest is zeroed (the kernel limits a string
 *                         parameter to 1024 bytes); in TEXT, \\ \,
 *                         \n \t \xHH \ooo are escapes (so "\x20" is a
 *                         space, "\," a comma that does not end the
 *                         entry); "name::TEXT" keeps the default size.
 * Sizes are rounded up to whole pages and limited to MYSHM_MAX_SIZE.
 *
 * Memory: every page of the shmem file is allocated and pinned at load
 * (kipc_shmem_pin(); kipc_shmem.h says why shmem and what pinned means)
 * and dropped at unload, so read()/write() reach the pages without a
 * lookup.  Where the kernel has transparent huge pages the private mount
 * is "huge=within_size": a buffer's 2 MiB-aligned 2 MiB ranges get huge
 * pages.
 *
 * Mappings: not delegated to the shmem file (vma_set_file() and its mmap)
 * but handled here, with the device file's f_mapping pointed at the shmem
 * file's address_space when it is opened.  Delegating would put the shmem
 * file into the VMA: a mapping would no longer hold the device file and so
 * the module (rmmod while mapped would succeed), /proc/PID/maps would name
 * a tmpfs file instead of /dev/<name>, and madvise(MADV_REMOVE) could
 * punch holes into a buffer whose pages must exist until unload.  With
 * f_mapping pointing at the shmem pages, the VMA sits in their i_mmap
 * tree (rmap works: the kernel can unmap and account them like any file
 * page), filemap_map_pages() maps the rest of the faulting page's 16-page
 * window (the page cache's fault-around), and a huge page is mapped with
 * one PMD where the VMA is suitably aligned (get_unmapped_area aligns
 * mappings of 2 MiB or more).  Our own .fault serves what fault-around did
 * not map, from the pinned pages; no VM_MIXEDMAP, no vm_insert_pages().
 *
 * Locking: there is none, and none is needed.  A buffer's fields are set
 * before misc_register() and never change until module exit, which cannot
 * run while a file is open (fops.owner pins the module) or mapped (a
 * mapping holds its file).  The bytes themselves are shared memory: the
 * kernel does not order concurrent accesses, user space does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/uaccess.h>

#include <kipc/myshm.h>

#include "kipc_compat.h"
#include "kipc_dmabuf.h"
#include "kipc_shmem.h"

/* MYSHM_DEFAULT_SIZE, as the parameter shows it */
static char *size = __stringify(MYSHM_DEFAULT_MIB) "M";
module_param(size, charp, 0444);
MODULE_PARM_DESC(size,
		 "Bytes (K/M/G suffix allowed) of each buffer that does not give its own size; rounded up to pages, at most 1G (default "
		 __stringify(MYSHM_DEFAULT_MIB) "M)");

static char *buffers = "";
module_param(buffers, charp, 0444);
MODULE_PARM_DESC(buffers,
		 "Devices to create, \"name[:SIZE[:TEXT]],...\" (at most 16, names [A-Za-z0-9_-] up to 31 characters starting with a letter; TEXT: what the buffer starts with, escapes \\\\ \\, \\n \\t \\xHH \\ooo (\\x20 is a space; the whole value is at most 1024 bytes); default: one device \"myshm\")");

/**
 * struct myshm_buf - one shared buffer and its device
 * @misc: the misc device (/dev/@name); drvdata of its struct device
 * @name: device name, NUL-terminated
 * @shmem: the shmem file that holds the bytes
 * @pages: every page of @shmem, in order, each with a reference of ours
 * @size: bytes in @shmem, a multiple of PAGE_SIZE
 * @seed: the text the buffer starts with (buffers=name:SIZE:TEXT), or NULL;
 *        freed once copied in at load
 *
 * All fields but @seed are immutable while the device is registered.
 */
struct myshm_buf {
	struct miscdevice misc;
	char name[MYSHM_NAME_MAX + 1];
	struct file *shmem;
	struct page **pages;
	size_t size;
	char *seed;
};

/* The buffers of this module load: myshm_nbufs entries, set up in init. */
static struct myshm_buf *myshm_bufs;
static unsigned int myshm_nbufs;

/* Private tmpfs mount of the buffers' shmem files (huge= where possible). */
static struct vfsmount *myshm_mnt;

static struct myshm_buf *myshm_file_buf(struct file *file)
{
	/* misc_open() put our miscdevice into private_data */
	return container_of(file->private_data, struct myshm_buf, misc);
}

/* ---- open, release, mmap ---- */

static int myshm_open(struct inode *inode, struct file *file)
{
	struct myshm_buf *buf = myshm_file_buf(file);

	/*
	 * Mappings of this file map the shmem file's pages: the VMA goes
	 * into their i_mmap tree and filemap_map_pages() finds them.
	 */
	file->f_mapping = buf->shmem->f_mapping;
	pr_debug("/dev/%s: open by pid %d (%s), flags 0%o\n", buf->name,
		 task_tgid_nr(current), current->comm, file->f_flags);
	return 0;
}

static int myshm_release(struct inode *inode, struct file *file)
{
	pr_debug("/dev/%s: closed by pid %d (%s)\n",
		 myshm_file_buf(file)->name, task_tgid_nr(current),
		 current->comm);
	return 0;
}

/* Serve a fault that fault-around (filemap_map_pages()) did not map. */
static vm_fault_t myshm_fault(struct vm_fault *vmf)
{
	struct myshm_buf *buf = vmf->vma->vm_private_data;

	return kipc_shmem_fault(vmf, buf->pages, buf->size >> PAGE_SHIFT);
}

static const struct vm_operations_struct myshm_vm_ops = {
	.fault = myshm_fault,
	.map_pages = filemap_map_pages,
};

static int myshm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct myshm_buf *buf = myshm_file_buf(file);
	unsigned long npages = buf->size >> PAGE_SHIFT;

	/*
	 * MAP_SHARED of an O_RDONLY file clears VM_SHARED but keeps
	 * VM_MAYSHARE, so VM_MAYSHARE tells shared from private mappings.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= npages || vma_pages(vma) > npages - vma->vm_pgoff)
		return -EINVAL;
	/* mmap() already refused PROT_WRITE; refuse mprotect() too */
	if (!(file->f_mode & FMODE_WRITE))
		kipc_vm_flags_clear(vma, VM_MAYWRITE);
	kipc_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &myshm_vm_ops;
	vma->vm_private_data = buf;
	return 0;
}

/* ---- read, write, lseek ---- */

/**
 * struct myshm_copy - one read() or write() in progress
 * @buf: the buffer
 * @pos: where the transfer starts in it
 * @ubuf: the user buffer (const for a write)
 */
struct myshm_copy {
	struct myshm_buf *buf;
	loff_t pos;
	char __user *ubuf;
};

/* kipc_copy_chunked()'s step of a read: N bytes at DONE to user space. */
static long myshm_copy_out(void *ctx, size_t done, size_t n)
{
	const struct myshm_copy *c = ctx;
	char __user *ubuf = c->ubuf + done;
	loff_t pos = c->pos + done;

	while (n) {
		size_t off = offset_in_page(pos);
		size_t len = min_t(size_t, n, PAGE_SIZE - off);
		void *kaddr = kmap_local_page(c->buf->pages[pos >> PAGE_SHIFT]);
		size_t left = copy_to_user(ubuf, kaddr + off, len);

		kunmap_local(kaddr);
		n -= len - left;
		if (left)
			break;
		ubuf += len;
		pos += len;
	}
	return n;
}

/*
 * kipc_copy_chunked()'s step of a write: N bytes at DONE from user space.
 * Not copy_from_user(): on a fault it zeroes the bytes it could not copy,
 * destroying shared data that this write does not change.  The caller
 * checked access_ok().
 */
static long myshm_copy_in(void *ctx, size_t done, size_t n)
{
	const struct myshm_copy *c = ctx;
	const char __user *ubuf = c->ubuf + done;
	loff_t pos = c->pos + done;

	while (n) {
		size_t off = offset_in_page(pos);
		size_t len = min_t(size_t, n, PAGE_SIZE - off);
		void *kaddr = kmap_local_page(c->buf->pages[pos >> PAGE_SHIFT]);
		size_t left = __copy_from_user(kaddr + off, ubuf, len);

		kunmap_local(kaddr);
		n -= len - left;
		if (left)
			break;
		ubuf += len;
		pos += len;
	}
	return n;
}

static ssize_t myshm_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct myshm_copy c = { myshm_file_buf(file), *ppos, ubuf };
	ssize_t done;

	if (c.pos < 0)
		return -EINVAL;
	if (c.pos >= c.buf->size)
		return 0;
	count = min_t(size_t, count, c.buf->size - c.pos);
	done = kipc_copy_chunked(count, myshm_copy_out, &c);
	if (done > 0)
		*ppos = c.pos + done;
	return done;
}

static ssize_t myshm_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct myshm_copy c = { myshm_file_buf(file), *ppos,
				(char __user *)ubuf };
	ssize_t done;

	if (c.pos < 0)
		return -EINVAL;
	if (!count)
		return 0;
	if (c.pos >= c.buf->size)
		return -ENOSPC;
	count = min_t(size_t, count, c.buf->size - c.pos);
	if (!access_ok(ubuf, count))
		return -EFAULT;
	done = kipc_copy_chunked(count, myshm_copy_in, &c);
	if (done > 0)
		*ppos = c.pos + done;
	return done;
}

static loff_t myshm_llseek(struct file *file, loff_t offset, int whence)
{
	/* positions 0..size with SEEK_SET/CUR/END; anything else -> EINVAL */
	return fixed_size_llseek(file, offset, whence,
				 myshm_file_buf(file)->size);
}

/* ---- dma-buf export ---- */

#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
/**
 * struct myshm_export - one dma-buf of a range of a buffer
 * @buf: the buffer (lives until unload, which the dma-buf holds off)
 * @pgoff: first page of the range
 * @pages: pages in the range
 */
struct myshm_export {
	struct myshm_buf *buf;
	pgoff_t pgoff;
	pgoff_t pages;
};

static struct page *myshm_export_page(void *ctx, pgoff_t i)
{
	struct myshm_export *e = ctx;

	return e->buf->pages[e->pgoff + i];
}

static struct sg_table *myshm_dmabuf_map(struct dma_buf_attachment *at,
					 enum dma_data_direction dir)
{
	struct myshm_export *e = at->dmabuf->priv;

	return kipc_dmabuf_map_pages(at, dir, myshm_export_page, e, e->pages);
}

/* A fault in a mapping of the dma-buf: vmf->pgoff counts from its start. */
static vm_fault_t myshm_dmabuf_fault(struct vm_fault *vmf)
{
	struct myshm_export *e = vmf->vma->vm_private_data;

	return kipc_shmem_fault(vmf, e->buf->pages + e->pgoff, e->pages);
}

static const struct vm_operations_struct myshm_dmabuf_vm_ops = {
	.fault = myshm_dmabuf_fault,
};

/*
 * mmap() of the dma-buf (directly, or through an importer's
 * dma_buf_mmap()), as udmabuf maps its memfd pages: the dma-buf's own
 * file and offsets, faults served from the pinned pages.
 */
static int myshm_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct myshm_export *e = dmabuf->priv;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= e->pages || vma_pages(vma) > e->pages - vma->vm_pgoff)
		return -EINVAL;
	kipc_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &myshm_dmabuf_vm_ops;
	vma->vm_private_data = e;
	return 0;
}

static void myshm_dmabuf_release(struct dma_buf *dmabuf)
{
	kfree(dmabuf->priv);
}

/* CPU access needs no cache maintenance: it is ordinary RAM. */
static const struct dma_buf_ops myshm_dmabuf_ops = {
	.map_dma_buf = myshm_dmabuf_map,
	.unmap_dma_buf = kipc_dmabuf_unmap_pages,
	.mmap = myshm_dmabuf_mmap,
	.release = myshm_dmabuf_release,
};

/* MYSHM_DMABUF: a dma-buf of a range of the buffer. */
static long myshm_ioctl_dmabuf(struct file *file, struct myshm_buf *buf,
			       struct myshm_dmabuf __user *uarg)
{
	struct myshm_export *e;
	struct myshm_dmabuf a;
	struct dma_buf *dmabuf;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if ((a.flags & ~MYSHM_DMABUF_CLOEXEC) || a.reserved ||
	    kipc_dmabuf_check(a.offset, a.size, buf->size))
		return -EINVAL;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->buf = buf;
	e->pgoff = a.offset >> PAGE_SHIFT;
	e->pages = a.size >> PAGE_SHIFT;
	dmabuf = kipc_dmabuf_export(&myshm_dmabuf_ops, e, a.size, file, NULL);
	if (IS_ERR(dmabuf)) {
		kfree(e);
		return PTR_ERR(dmabuf);
	}
	return kipc_dmabuf_install(dmabuf, a.flags & MYSHM_DMABUF_CLOEXEC,
				   &uarg->fd);
}
#else
static long myshm_ioctl_dmabuf(struct file *file, struct myshm_buf *buf,
			       struct myshm_dmabuf __user *uarg)
{
	return -ENOTTY;
}
#endif

/* ---- ioctl ---- */

static long myshm_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct myshm_buf *buf = myshm_file_buf(file);
	u64 sz = buf->size;

	switch (cmd) {
	case MYSHM_GET_SIZE:
		if (copy_to_user((void __user *)arg, &sz, sizeof(sz)))
			return -EFAULT;
		return 0;
	case MYSHM_DMABUF:
		return myshm_ioctl_dmabuf(file, buf, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations myshm_fops = {
	.owner = THIS_MODULE,
	.open = myshm_open,
	.release = myshm_release,
	.get_unmapped_area = kipc_thp_get_unmapped_area,
	.llseek = myshm_llseek,
	.read = myshm_read,
	.write = myshm_write,
	.mmap = myshm_mmap,
	.unlocked_ioctl = myshm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ---- sysfs: /sys/class/misc/<name>/size ---- */

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *out)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return sysfs_emit(out, "%zu\n",
			  container_of(misc, struct myshm_buf, misc)->size);
}
static DEVICE_ATTR_RO(size);

static struct attribute *myshm_attrs[] = {
	&dev_attr_size.attr,
	NULL,
};
ATTRIBUTE_GROUPS(myshm);

/* ---- module parameters ---- */

/*
 * Parse "N[K|M|G]" (decimal) into *out, rounded up to pages.  Returns NULL,
 * or why S is not an acceptable size.
 */
static const char *myshm_parse_size(const char *s, size_t len, size_t *out)
{
	char num[24];
	unsigned int shift = 0;
	unsigned long long v;
	size_t i;

	if (len) {
		switch (s[len - 1]) {
		case 'K': case 'k':
			shift = 10;
			break;
		case 'M': case 'm':
			shift = 20;
			break;
		case 'G': case 'g':
			shift = 30;
			break;
		}
	}
	if (shift)
		len--;
	if (!len)
		return "no size";
	for (i = 0; i < len; i++)
		if (!isdigit(s[i]))
			return "not a decimal number with optional K, M or G";
	if (len >= sizeof(num))
		return "above the limit of 1G";
	memcpy(num, s, len);
	num[len] = '\0';
	if (kstrtoull(num, 10, &v) || v > MYSHM_MAX_SIZE >> shift)
		return "above the limit of 1G";
	if (!v)
		return "size 0";
	*out = PAGE_ALIGN((size_t)v << shift);
	return NULL;
}

/* Is NAME (LEN characters) an acceptable device name?  NULL, or why not. */
static const char *myshm_check_name(const char *name, size_t len)
{
	size_t i;

	if (!len)
		return "empty name";
	if (len > MYSHM_NAME_MAX)
		return "name longer than 31 characters";
	if (!isalpha(name[0]))
		return "name does not start with a letter";
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-')
			return "name has characters other than A-Z a-z 0-9 _ -";
	return NULL;
}

/*
 * Decode the escapes of a buffers= TEXT in place: \\ \, \n \t, \x with
 * one or two hex digits, \ with one to three octal digits (at most \377).
 * They let TEXT hold spaces and commas with no quotes, which busybox's and
 * kmod's modprobe would each pass on differently.  Not
 * string_unescape_inplace(): that keeps an unknown escape as it is and
 * knows no "\,", where a mistyped escape must fail the load.  Returns
 * NULL, or why TEXT is not acceptable (also a NUL byte: the text ends at
 * the first one).
 */
static const char *myshm_unescape(char *text)
{
	static const char bad[] =
		"bad escape in text (allowed: \\\\ \\, \\n \\t \\xHH \\ooo, not a NUL byte)";
	char *in = text, *out = text;
	unsigned int v, i;

	while (*in) {
		if (*in != '\\') {
			*out++ = *in++;
			continue;
		}
		v = 0;
		switch (*++in) {
		case '\\':
		case ',':
			v = *in++;
			break;
		case 'n':
			v = '\n';
			in++;
			break;
		case 't':
			v = '\t';
			in++;
			break;
		case 'x':
			for (i = 0, in++; i < 2 && isxdigit(*in); i++)
				v = v * 16 + hex_to_bin(*in++);
			if (!i)
				return bad;
			break;
		default:
			for (i = 0; i < 3 && isodigit(*in); i++)
				v = v * 8 + (*in++ - '0');
			if (!i || v > 0xff)
				return bad;
		}
		if (!v)
			return bad;
		*out++ = v;
	}
	*out = '\0';
	return NULL;
}

/*
 * Cut the next entry off a buffers= list at the first ',' that is not
 * escaped as "\,", like strsep(); NULL after the last one.
 */
static char *myshm_next_entry(char **rest)
{
	char *entry = *rest, *p;

	if (!entry)
		return NULL;
	for (p = entry; *p && *p != ','; p++)
		if (*p == '\\' && p[1])
			p++;
	*rest = *p ? p + 1 : NULL;
	*p = '\0';
	return entry;
}

/*
 * Fill bufs[] (room for MYSHM_MAX_BUFFERS) from the "size" and "buffers"
 * parameters.  Returns the number of buffers, or -EINVAL after one log
 * line that says what is wrong.
 */
static int myshm_parse_params(struct myshm_buf *bufs)
{
	const char *why;
	char *list, *rest, *entry;
	size_t defsize;
	int n = 0, i;

	why = myshm_parse_size(size, strlen(size), &defsize);
	if (why) {
		pr_err("invalid size=\"%s\": %s\n", size, why);
		return -EINVAL;
	}
	if (!*buffers) {
		strscpy(bufs[0].name, "myshm", sizeof(bufs[0].name));
		bufs[0].size = defsize;
		return 1;
	}

	list = kstrdup(buffers, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	rest = list;
	while ((entry = myshm_next_entry(&rest))) {
		char *colon = strchr(entry, ':');
		size_t nlen = colon ? colon - entry : strlen(entry);
		char *text = colon ? strchr(colon + 1, ':') : NULL;

		if (n == MYSHM_MAX_BUFFERS) {
			pr_err("invalid buffers=\"%s\": more than %d entries\n",
			       buffers, MYSHM_MAX_BUFFERS);
			goto bad;
		}
		why = myshm_check_name(entry, nlen);
		/* "name:SIZE:TEXT": the size ends at the second colon */
		if (text)
			*text++ = '\0';
		if (!why && colon && (colon[1] || !text))
			why = myshm_parse_size(colon + 1, strlen(colon + 1),
					       &bufs[n].size);
		else if (!why)
			bufs[n].size = defsize;	/* "name" or "name::TEXT" */
		if (!why && text && !*text)
			why = "empty text";
		if (!why && text) {
			/* decoded in the copy: the message shows the entry */
			bufs[n].seed = kstrdup(text, GFP_KERNEL);
			if (!bufs[n].seed) {
				kfree(list);
				return -ENOMEM;
			}
			why = myshm_unescape(bufs[n].seed);
		}
		if (why && text)
			text[-1] = ':';	/* the whole entry in the message */
		if (why) {
			pr_err("invalid buffers entry \"%s\": %s\n", entry, why);
			goto bad;
		}
		memcpy(bufs[n].name, entry, nlen);
		bufs[n].name[nlen] = '\0';
		for (i = 0; i < n; i++) {
			if (!strcmp(bufs[i].name, bufs[n].name)) {
				pr_err("invalid buffers=\"%s\": duplicate name \"%s\"\n",
				       buffers, bufs[n].name);
				goto bad;
			}
		}
		n++;
	}
	kfree(list);
	return n;

bad:
	kfree(list);
	return -EINVAL;
}

/* ---- module init and exit ---- */

/* Drop BUF's pages and shmem file (either may be missing). */
static void myshm_buf_free(struct myshm_buf *buf)
{
	if (buf->pages)
		kipc_shmem_unpin(buf->pages, buf->size >> PAGE_SHIFT);
	buf->pages = NULL;
	if (buf->shmem)
		fput(buf->shmem);
	buf->shmem = NULL;
}

/*
 * Give BUF its shmem file and every page of it, zeroed and pinned.  A size
 * that does not fit fails with one log line and -ENOMEM: no OOM kill, no
 * allocation-failure stack dump.
 */
static int myshm_buf_alloc(struct myshm_buf *buf)
{
	const gfp_t gfp = GFP_HIGHUSER | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	struct file *shmem;
	struct page **pages;
	int err;

	/* flags 0: the whole size is committed now (overcommit accounting) */
	shmem = shmem_file_setup_with_mnt(myshm_mnt, buf->name, buf->size, 0);
	if (IS_ERR(shmem)) {
		err = PTR_ERR(shmem);
		goto fail;
	}
	buf->shmem = shmem;
	kipc_shmem_set_pinned(shmem->f_mapping);
	pages = kipc_shmem_pin(shmem->f_mapping, 0, buf->size >> PAGE_SHIFT,
			       gfp);
	if (IS_ERR(pages)) {
		err = PTR_ERR(pages);
		goto fail;
	}
	buf->pages = pages;
	if (buf->seed) {
		/* the text, then zeroes: within the first page or two */
		size_t len = strlen(buf->seed), done = 0;

		while (done < len) {
			size_t n = min_t(size_t, len - done,
					 PAGE_SIZE - offset_in_page(done));

			memcpy_to_page(buf->pages[done >> PAGE_SHIFT],
				       offset_in_page(done), buf->seed + done, n);
			done += n;
		}
	}
	return 0;

fail:
	myshm_buf_free(buf);
	pr_err("cannot allocate %zu bytes for %s (error %d)\n", buf->size,
	       buf->name, err);
	return -ENOMEM;
}

static void myshm_free_all(void)
{
	unsigned int i;

	for (i = 0; i < MYSHM_MAX_BUFFERS && myshm_bufs; i++) {
		myshm_buf_free(&myshm_bufs[i]);
		kfree(myshm_bufs[i].seed);
	}
	kfree(myshm_bufs);
	myshm_bufs = NULL;
	myshm_nbufs = 0;
	if (myshm_mnt)
		kern_unmount(myshm_mnt);
	myshm_mnt = NULL;
}

/*
 * Mount the private tmpfs instance of the buffers: "huge=within_size"
 * where the kernel has transparent huge pages (like i915's gemfs), so a
 * buffer's whole 2 MiB ranges get huge pages; a plain one elsewhere.
 */
static int myshm_mount(void)
{
	char huge_opt[] = "huge=within_size";	/* parsed in place */
	struct file_system_type *type = get_fs_type("tmpfs");
	char *opts = NULL;

	if (!type)
		return -ENODEV;
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) &&
	    has_transparent_hugepage())
		opts = huge_opt;
	myshm_mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name, opts);
	if (IS_ERR(myshm_mnt)) {
		int err = PTR_ERR(myshm_mnt);

		myshm_mnt = NULL;
		pr_err("cannot mount tmpfs for the buffers: error %d\n", err);
		return err;
	}
	return 0;
}

static int __init myshm_init(void)
{
	unsigned int i, registered;
	int n, err;

	myshm_bufs = kcalloc(MYSHM_MAX_BUFFERS, sizeof(*myshm_bufs),
			     GFP_KERNEL);
	if (!myshm_bufs)
		return -ENOMEM;
	n = myshm_parse_params(myshm_bufs);
	if (n < 0) {
		err = n;
		goto err_free;
	}
	myshm_nbufs = n;
	err = myshm_mount();
	if (err)
		goto err_free;

	for (i = 0; i < myshm_nbufs; i++) {
		struct myshm_buf *buf = &myshm_bufs[i];

		err = myshm_buf_alloc(buf);
		if (err)
			goto err_free;
		buf->misc.minor = MISC_DYNAMIC_MINOR;
		buf->misc.name = buf->name;
		buf->misc.fops = &myshm_fops;
		buf->misc.groups = myshm_groups;
		buf->misc.mode = 0600;
	}

	for (registered = 0; registered < myshm_nbufs; registered++) {
		err = misc_register(&myshm_bufs[registered].misc);
		if (err) {
			pr_err("cannot register /dev/%s: error %d\n",
			       myshm_bufs[registered].name, err);
			goto err_deregister;
		}
	}
	for (i = 0; i < myshm_nbufs; i++) {
		pr_info("/dev/%s: %zu bytes%s\n", myshm_bufs[i].name,
			myshm_bufs[i].size,
			myshm_bufs[i].seed ? ", starting with a text" : "");
		kfree(myshm_bufs[i].seed);
		myshm_bufs[i].seed = NULL;
	}
	return 0;

err_deregister:
	while (registered--)
		misc_deregister(&myshm_bufs[registered].misc);
err_free:
	myshm_free_all();
	return err;
}

static void __exit myshm_exit(void)
{
	unsigned int i;

	for (i = 0; i < myshm_nbufs; i++)
		misc_deregister(&myshm_bufs[i].misc);
	myshm_free_all();
}

module_init(myshm_init);
module_exit(myshm_exit);

MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc contributors");
MODULE_DESCRIPTION("kipc: memory buffers shared through character devices (/dev/myshm)");
