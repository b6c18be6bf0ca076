/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc_dmabuf.h - what the dma-buf exporters of kipc's memory modules
 * (kipc_ivshmem's KIPC_IVSHMEM_DMABUF, myshm's MYSHM_DMABUF) share: the
 * check of the range a user asks for, an importer's scatter list over
 * that range's pages, and handing out the descriptor.  Header-only, like
 * kipc_shmem.h: every .c file in kernel/ is a module of its own.
 */
#ifndef KIPC_DMABUF_H
#define KIPC_DMABUF_H

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/**
 * kipc_dmabuf_check() - is a requested range exportable?
 * @offset: first byte, from the user
 * @size: bytes, from the user
 * @region: bytes in the memory the range must lie in
 *
 * Return: 0, or -EINVAL if @offset or @size is not page-aligned, @size is
 * 0, or the range does not lie inside @region.
 */
static inline int kipc_dmabuf_check(u64 offset, u64 size, u64 region)
{
	if (!size || !PAGE_ALIGNED(offset) || !PAGE_ALIGNED(size) ||
	    offset > region || size > region - offset)
		return -EINVAL;
	return 0;
}

/**
 * kipc_dmabuf_export() - a new dma-buf over memory a device file maps
 * @ops: the exporter's operations
 * @priv: the dma-buf's private data (the caller frees it on failure)
 * @size: bytes
 * @file: the device file asking: the dma-buf is read-write if it is
 * @mapping: the address_space the device's own mappings use, whose
 *	mappings the dma-buf's join (so whatever zaps the device's zaps
 *	theirs), or NULL to keep the dma-buf's own
 *
 * Its owner (held while it is open) and name are the calling module's.
 *
 * Return: the dma-buf, or an ERR_PTR.
 */
static inline struct dma_buf *kipc_dmabuf_export(const struct dma_buf_ops *ops,
						 void *priv, size_t size,
						 struct file *file,
						 struct address_space *mapping)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct dma_buf *dmabuf;

	info.ops = ops;
	info.size = size;
	info.flags = file->f_mode & FMODE_WRITE ? O_RDWR : O_RDONLY;
	info.priv = priv;
	dmabuf = dma_buf_export(&info);
	if (!IS_ERR(dmabuf) && mapping)
		dmabuf->file->f_mapping = mapping;
	return dmabuf;
}

/**
 * kipc_dmabuf_map_pages() - an importer's scatter list over some pages
 * @at: the importer's attachment
 * @dir: the DMA direction
 * @page: returns page @i of the range
 * @ctx: passed to @page
 * @npages: pages in the range
 *
 * Physically contiguous pages share an entry (up to 1 GiB: an entry's
 * length is an unsigned int).  Every page gets a reference for as long as
 * the list exists, so the memory behind it cannot go while an importer
 * may still reach it; kipc_dmabuf_unmap_pages() drops them.
 *
 * Return: the list, mapped for @at's device, or an ERR_PTR.
 */
static inline struct sg_table *
kipc_dmabuf_map_pages(struct dma_buf_attachment *at,
		      enum dma_data_direction dir,
		      struct page *(*page)(void *ctx, pgoff_t i), void *ctx,
		      pgoff_t npages)
{
	const pgoff_t max_run = SZ_1G >> PAGE_SHIFT;
	struct scatterlist *sg = NULL;
	struct sg_table *sgt;
	unsigned int nents = 0;
	pgoff_t i, run = 0;
	int ret;

	/* count the runs of contiguous pages first */
	for (i = 0; i < npages; i++, run++)
		if (!i || run == max_run ||
		    page_to_pfn(page(ctx, i)) != page_to_pfn(page(ctx, i - 1)) + 1) {
			nents++;
			run = 0;
		}
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret) {
		kfree(sgt);
		return ERR_PTR(ret);
	}
	for (i = 0, run = 0; i < npages; i++, run++) {
		struct page *p = page(ctx, i);

		if (!i || run == max_run ||
		    page_to_pfn(p) != page_to_pfn(page(ctx, i - 1)) + 1) {
			sg = sg ? sg_next(sg) : sgt->sgl;
			sg_set_page(sg, p, PAGE_SIZE, 0);
			run = 0;
		} else {
			sg->length += PAGE_SIZE;
		}
		get_page(p);
	}
	ret = dma_map_sgtable(at->dev, sgt, dir, 0);
	if (ret) {
		struct sg_page_iter it;

		for_each_sgtable_page(sgt, &it, 0)
			put_page(sg_page_iter_page(&it));
		sg_free_table(sgt);
		kfree(sgt);
		return ERR_PTR(ret);
	}
	return sgt;
}

/**
 * kipc_dmabuf_unmap_pages() - undo kipc_dmabuf_map_pages()
 * @at: the importer's attachment
 * @sgt: the list
 * @dir: the DMA direction it was mapped with
 */
static inline void kipc_dmabuf_unmap_pages(struct dma_buf_attachment *at,
					   struct sg_table *sgt,
					   enum dma_data_direction dir)
{
	struct sg_page_iter it;

	dma_unmap_sgtable(at->dev, sgt, dir, 0);
	for_each_sgtable_page(sgt, &it, 0)
		put_page(sg_page_iter_page(&it));
	sg_free_table(sgt);
	kfree(sgt);
}

/**
 * kipc_dmabuf_install() - give a new dma-buf a descriptor
 * @dmabuf: the dma-buf; dropped on failure
 * @cloexec: close-on-exec
 * @ufd: where the descriptor goes in the user's argument
 *
 * As dma_buf_fd(), but the number is stored before the descriptor is
 * installed, so a bad @ufd leaves no descriptor behind.
 *
 * Return: 0, or -EMFILE, -EFAULT and the like (the dma-buf is gone then).
 */
static inline int kipc_dmabuf_install(struct dma_buf *dmabuf, bool cloexec,
				      __s32 __user *ufd)
{
	int fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);

	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	if (put_user(fd, ufd)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

#endif /* KIPC_DMABUF_H */
