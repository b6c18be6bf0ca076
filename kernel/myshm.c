// SPDX-License-Identifier: GPL-2.0
/*
 * myshm - kernel memory buffers shared through character devices.
 *
 * Every buffer is one misc device (/dev/<name>, dynamic minor, mode 0600)
 * backed by zeroed vmalloc memory that lives from module load to
 * module unload.  Processes share it with mmap(MAP_SHARED); read(), write()
 * and lseek() show the same bytes; ioctl(MYSHM_GET_SIZE) and the sysfs
 * attribute "size" tell its size.  The ABI is in <kipc/myshm.h>.
 *
 * Module parameters (validated completely before anything is allocated;
 * any error fails the load with -EINVAL and one kernel log line):
 *   size=N[K|M|G]         size of buffers that do not give one (default 4M)
 *   buffers=name[:N[K|M|G]],...
 *                         the buffers to create; default: one "myshm"
 * Sizes are rounded up to whole pages and limited to MYSHM_MAX_SIZE.
 *
 * Mappings are filled on demand: a fault maps the faulting page and the
 * rest of its 16-page window (like the page cache's fault-around), with
 * the mapping's protection, so read-only mappings stay read-only.
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
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <kipc/myshm.h>

#include "kipc_compat.h"

/* Pages one fault maps (the faulting one and its aligned neighbours). */
#define MYSHM_FAULT_AROUND 16

/* read()/write() copy at most this much before checking for signals. */
#define MYSHM_COPY_CHUNK (256 * 1024)

static char *size = "4M";
module_param(size, charp, 0444);
MODULE_PARM_DESC(size,
		 "Bytes (K/M/G suffix allowed) of each buffer that does not give its own size; rounded up to pages, at most 1G (default 4M)");

static char *buffers = "";
module_param(buffers, charp, 0444);
MODULE_PARM_DESC(buffers,
		 "Devices to create, \"name[:SIZE],...\" (at most 16, names [A-Za-z0-9_-] up to 31 characters starting with a letter; default: one device \"myshm\")");

/**
 * struct myshm_buf - one shared buffer and its device
 * @misc: the misc device (/dev/@name); drvdata of its struct device
 * @name: device name, NUL-terminated
 * @vaddr: the buffer, zeroed vmalloc memory (page-aligned)
 * @size: bytes in @vaddr, a multiple of PAGE_SIZE
 *
 * All fields are immutable while the device is registered.
 */
struct myshm_buf {
	struct miscdevice misc;
	char name[MYSHM_NAME_MAX + 1];
	void *vaddr;
	size_t size;
};

/* The buffers of this module load: myshm_nbufs entries, set up in init. */
static struct myshm_buf *myshm_bufs;
static unsigned int myshm_nbufs;

static struct myshm_buf *myshm_file_buf(struct file *file)
{
	/* misc_open() put our miscdevice into private_data */
	return container_of(file->private_data, struct myshm_buf, misc);
}

/* ---- mmap ---- */

/*
 * Map the pages of [FIRST, LAST) (user addresses) that are not mapped yet,
 * in one vm_insert_pages() call per run; best effort.
 */
static void myshm_map_range(struct vm_area_struct *vma,
			    struct myshm_buf *buf, unsigned long first,
			    unsigned long last)
{
	struct page *pages[MYSHM_FAULT_AROUND];
	unsigned long addr, num = 0;
	pgoff_t pgoff = vma->vm_pgoff + ((first - vma->vm_start) >> PAGE_SHIFT);

	for (addr = first; addr < last && pgoff < buf->size >> PAGE_SHIFT;
	     addr += PAGE_SIZE, pgoff++)
		pages[num++] = vmalloc_to_page(buf->vaddr +
					       (pgoff << PAGE_SHIFT));
	if (num)
		vm_insert_pages(vma, first, pages, &num);
}

static vm_fault_t myshm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct myshm_buf *buf = vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK, start, end;
	struct page *page;

	if (vmf->pgoff >= buf->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page(buf->vaddr + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;

	/*
	 * Fault around: map the rest of the aligned window of
	 * MYSHM_FAULT_AROUND pages too, so touching a buffer page by page
	 * traps once per window, not once per page.
	 */
	start = max(ALIGN_DOWN(addr, MYSHM_FAULT_AROUND * PAGE_SIZE),
		    vma->vm_start);
	end = min(ALIGN_DOWN(addr, MYSHM_FAULT_AROUND * PAGE_SIZE) +
		  MYSHM_FAULT_AROUND * PAGE_SIZE, vma->vm_end);
	myshm_map_range(vma, buf, start, addr);
	myshm_map_range(vma, buf, addr + PAGE_SIZE, end);
	return 0;
}

static const struct vm_operations_struct myshm_vm_ops = {
	.fault = myshm_fault,
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
	/* VM_MIXEDMAP: myshm_fault() may vm_insert_pages() */
	kipc_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | VM_MIXEDMAP);
	vma->vm_ops = &myshm_vm_ops;
	vma->vm_private_data = buf;
	return 0;
}

/* ---- read, write, lseek ---- */

static ssize_t myshm_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct myshm_buf *buf = myshm_file_buf(file);
	loff_t pos = *ppos;
	size_t done = 0;

	if (pos < 0)
		return -EINVAL;
	if (pos >= buf->size)
		return 0;
	count = min_t(size_t, count, buf->size - pos);
	while (done < count) {
		size_t n = min_t(size_t, count - done, MYSHM_COPY_CHUNK);
		size_t left;

		if (done && fatal_signal_pending(current))
			break;
		left = copy_to_user(ubuf + done, buf->vaddr + pos + done, n);
		done += n - left;
		if (left)
			break;
		cond_resched();
	}
	if (!done && count)
		return -EFAULT;
	*ppos = pos + done;
	return done;
}

static ssize_t myshm_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct myshm_buf *buf = myshm_file_buf(file);
	loff_t pos = *ppos;
	size_t done = 0;

	if (pos < 0)
		return -EINVAL;
	if (!count)
		return 0;
	if (pos >= buf->size)
		return -ENOSPC;
	count = min_t(size_t, count, buf->size - pos);
	if (!access_ok(ubuf, count))
		return -EFAULT;
	while (done < count) {
		size_t n = min_t(size_t, count - done, MYSHM_COPY_CHUNK);
		size_t left;

		if (done && fatal_signal_pending(current))
			break;
		/*
		 * Not copy_from_user(): on a fault it zeroes the bytes it
		 * could not copy, destroying shared data that this write
		 * does not change.  access_ok() was checked above.
		 */
		left = __copy_from_user(buf->vaddr + pos + done, ubuf + done,
					n);
		done += n - left;
		if (left)
			break;
		cond_resched();
	}
	if (!done)
		return -EFAULT;
	*ppos = pos + done;
	return done;
}

static loff_t myshm_llseek(struct file *file, loff_t offset, int whence)
{
	/* positions 0..size with SEEK_SET/CUR/END; anything else -> EINVAL */
	return fixed_size_llseek(file, offset, whence,
				 myshm_file_buf(file)->size);
}

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
	default:
		return -ENOTTY;
	}
}

static const struct file_operations myshm_fops = {
	.owner = THIS_MODULE,
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
	while ((entry = strsep(&rest, ","))) {
		const char *colon = strchr(entry, ':');
		size_t nlen = colon ? colon - entry : strlen(entry);

		if (n == MYSHM_MAX_BUFFERS) {
			pr_err("invalid buffers=\"%s\": more than %d entries\n",
			       buffers, MYSHM_MAX_BUFFERS);
			goto bad;
		}
		why = myshm_check_name(entry, nlen);
		if (!why && colon)
			why = myshm_parse_size(colon + 1, strlen(colon + 1),
					       &bufs[n].size);
		else if (!why)
			bufs[n].size = defsize;
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

static void myshm_free_all(void)
{
	unsigned int i;

	for (i = 0; i < myshm_nbufs; i++)
		vfree(myshm_bufs[i].vaddr);
	kfree(myshm_bufs);
	myshm_bufs = NULL;
	myshm_nbufs = 0;
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

	for (i = 0; i < myshm_nbufs; i++) {
		struct myshm_buf *buf = &myshm_bufs[i];

		/*
		 * Zeroed like vmalloc_user(); VM_USERMAP is not needed as
		 * pages are mapped by myshm_fault().  A size that does not
		 * fit fails with one log line: no OOM kill, no stack dump.
		 */
		buf->vaddr = __vmalloc(buf->size, GFP_KERNEL | __GFP_ZERO |
				       __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
		if (!buf->vaddr) {
			pr_err("cannot allocate %zu bytes for %s\n",
			       buf->size, buf->name);
			err = -ENOMEM;
			goto err_free;
		}
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
	for (i = 0; i < myshm_nbufs; i++)
		pr_info("/dev/%s: %zu bytes\n", myshm_bufs[i].name,
			myshm_bufs[i].size);
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
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc project");
MODULE_DESCRIPTION("Kernel memory buffers shared through mmap-able character devices");
