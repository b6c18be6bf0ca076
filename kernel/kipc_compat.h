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
#include <linux/mm.h>
#include <linux/huge_mm.h>

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

/* struct class's dev_uevent/devnode take a const device since 6.2. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define KIPC_CLASS_DEV_CONST
#else
#define KIPC_CLASS_DEV_CONST const
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

#endif /* KIPC_COMPAT_H */
