/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc_compat.h - the one place where kipc looks at the kernel version.
 *
 * kipc supports Debian's 6.1 and 6.12 LTS kernels from one source.  Every
 * API difference between them is wrapped here so the drivers stay free of
 * version checks.
 */
#ifndef KIPC_COMPAT_H
#define KIPC_COMPAT_H

#include <linux/version.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pci.h>

/*
 * The kernels kipc supports and is tested on: 6.1 to 6.12.  These two
 * lines are also read by scripts/dkms-conf.sh, which turns them into
 * dkms.conf's BUILD_EXCLUSIVE_KERNEL so DKMS skips any other kernel with
 * a clear line instead of a compiler error.  A build by hand for another
 * kernel goes on with a warning.
 */
#define KIPC_KERNEL_FIRST KERNEL_VERSION(6, 1, 0)
#define KIPC_KERNEL_LAST KERNEL_VERSION(6, 12, 255)
#if LINUX_VERSION_CODE < KIPC_KERNEL_FIRST || LINUX_VERSION_CODE > KIPC_KERNEL_LAST
#warning "kipc supports Linux 6.1 to 6.12; this kernel is untested"
#endif

/* class_create() lost its owner argument in 6.4. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define kipc_class_create(name) class_create(THIS_MODULE, name)
#else
#define kipc_class_create(name) class_create(name)
#endif

/* vm_flags became read-only behind vm_flags_set()/vm_flags_clear() in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void kipc_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void kipc_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#else
static inline void kipc_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
	vm_flags_set(vma, flags);
}

static inline void kipc_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vm_flags_clear(vma, flags);
}
#endif

/*
 * A file_operations.get_unmapped_area that aligns mappings of 2 MiB or more
 * so huge pages can be mapped with PMDs; without THP the default (NULL).
 * Same prototype in 6.1 and 6.12.
 */
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
#define kipc_thp_get_unmapped_area thp_get_unmapped_area
#else
#define kipc_thp_get_unmapped_area NULL
#endif

/*
 * vm_operations_struct.huge_fault's second argument: an enum page_entry_size
 * up to 6.5, the page order since 6.6.  kipc_fault_is_pmd() says whether
 * it asks for a PMD-sized (2 MiB on x86-64) mapping.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define kipc_fault_size_t enum page_entry_size
#define kipc_fault_is_pmd(size) ((size) == PE_SIZE_PMD)
#else
#define kipc_fault_size_t unsigned int
#define kipc_fault_is_pmd(order) ((order) == PMD_ORDER)
#endif

/*
 * A file whose read_iter/write_iter honour IOCB_NOWAIT says so with
 * FMODE_NOWAIT in f_mode, set in open, on both 6.1 and 6.12 (io_uring then
 * issues reads and writes inline instead of punting them to io-wq workers).
 * Later kernels may move it to file_operations' fop_flags; this is the one
 * place to change then.
 */
static inline void kipc_file_set_nowait(struct file *file)
{
	file->f_mode |= FMODE_NOWAIT;
}

/*
 * Request and map one BAR of a pcim_enable_device()d device, released on
 * unbind; an ERR_PTR on failure.  6.11 added pcim_iomap_region() and
 * deprecated the pcim_iomap_regions() + pcim_iomap_table() pair.
 */
static inline void __iomem *kipc_pcim_iomap_region(struct pci_dev *pdev,
						   int bar, const char *name)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	int ret = pcim_iomap_regions(pdev, BIT(bar), name);

	return ret ? IOMEM_ERR_PTR(ret) : pcim_iomap_table(pdev)[bar];
#else
	return pcim_iomap_region(pdev, bar, name);
#endif
}

#endif /* KIPC_COMPAT_H */
