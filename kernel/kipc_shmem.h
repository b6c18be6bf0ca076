/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc_shmem.h - pinned shmem pages and read()/write() copies, shared by
 * the memory modules (myshm, kshm; the copy loop also kipc_ivshmem).
 *
 * Header-only: kernel/Kbuild builds one module per .c file, and one object
 * linked into two modules is something kbuild warns about.
 */
#ifndef KIPC_SHMEM_H
#define KIPC_SHMEM_H

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

/* ---- pinned shmem pages ---- */

/*
 * Why shmem: a process-shared futex (every PTHREAD_PROCESS_SHARED mutex,
 * condvar, rwlock, barrier and robust mutex, every shared semaphore) is
 * keyed by the backing page's mapping and index (get_futex_key(): the
 * inode's i_sequence and the page offset); vmalloc and bare alloc_page()
 * pages have no mapping, so shared futexes in them failed with EFAULT.
 * Page-cache pages of a shmem (tmpfs) file have one.  Two consequences:
 * the same (file, index) is the same futex for everyone who maps it, and
 * a range of a file that is reused for new memory is still the same futex
 * to a waiter that slept on the old memory (kshm gives each object fresh
 * indices for that reason).
 *
 * Pinned: the mapping is unevictable like SHM_LOCK and ramfs (never
 * swapped, never reclaimed), its gfp mask leaves out __GFP_MOVABLE, and
 * the owner keeps one reference on every page until it frees the memory,
 * so the pages exist, zeroed by shmem, from allocation to release and are
 * never truncated, migrated or dropped (drop_caches skips them); the
 * owner reaches them through its page array without a lookup.  They are
 * charged to the allocating task's memory cgroup and count as Shmem in
 * /proc/meminfo.
 */

/* kipc_shmem_pin() lets the scheduler in after this many pages. */
#define KIPC_SHMEM_RESCHED_PAGES	512

/**
 * kipc_shmem_set_pinned() - prepare a shmem mapping for pinned pages
 * @mapping: the f_mapping of a shmem file, before any page is allocated
 */
static inline void kipc_shmem_set_pinned(struct address_space *mapping)
{
	/* like SHM_LOCK: never swapped, never reclaimed */
	mapping_set_unevictable(mapping);
	/* the pages stay pinned: keep them out of movable zones */
	mapping_set_gfp_mask(mapping, GFP_HIGHUSER);
}

/**
 * kipc_shmem_unpin() - drop the pages kipc_shmem_pin() pinned
 * @pages: the array kipc_shmem_pin() returned (freed here)
 * @n: the number of pages in it
 */
static inline void kipc_shmem_unpin(struct page **pages, unsigned long n)
{
	while (n--)
		put_page(pages[n]);
	kvfree(pages);
}

/**
 * kipc_shmem_pin() - allocate and pin pages of a shmem file
 * @mapping: the file's mapping, set up with kipc_shmem_set_pinned()
 * @first: the index of the first page
 * @n: the number of pages (at least 1)
 * @gfp: GFP_HIGHUSER, optionally with __GFP_NOWARN and
 *       __GFP_RETRY_MAYFAIL (which then also apply to the page array)
 *
 * Every page is allocated now, zeroed by shmem, marked dirty (its bytes
 * exist nowhere else) and held with one reference until
 * kipc_shmem_unpin().
 *
 * Return: an array of the @n pages, or an ERR_PTR (-ENOMEM, or what shmem
 * said); on error no page stays allocated by this call.
 */
static inline struct page **kipc_shmem_pin(struct address_space *mapping,
					   pgoff_t first, unsigned long n,
					   gfp_t gfp)
{
	gfp_t array_gfp = GFP_KERNEL_ACCOUNT |
			  (gfp & (__GFP_NOWARN | __GFP_RETRY_MAYFAIL));
	struct page **pages = kvcalloc(n, sizeof(*pages), array_gfp);
	unsigned long i;

	if (!pages)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++) {
		struct page *page = shmem_read_mapping_page_gfp(mapping,
								first + i,
								gfp);

		if (IS_ERR(page)) {
			kipc_shmem_unpin(pages, i);
			return ERR_CAST(page);
		}
		set_page_dirty(page);
		pages[i] = page;
		if (!((i + 1) % KIPC_SHMEM_RESCHED_PAGES))
			cond_resched();
	}
	return pages;
}

/**
 * kipc_shmem_fault() - serve a page fault from pinned pages
 * @vmf: the fault; vmf->pgoff indexes @pages
 * @pages: the pinned pages
 * @npages: the number of pages in @pages
 *
 * The generic fault code locks the page and maps it (with one PMD where
 * it is part of a suitably aligned huge page).
 *
 * Return: 0 with vmf->page set and referenced, or VM_FAULT_SIGBUS past the
 * end.
 */
static inline vm_fault_t kipc_shmem_fault(struct vm_fault *vmf,
					  struct page **pages,
					  unsigned long npages)
{
	struct page *page;

	if (vmf->pgoff >= npages)
		return VM_FAULT_SIGBUS;
	page = pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

/* ---- read() and write() of shared memory ---- */

/* kipc_copy_chunked() copies at most this much between signal checks. */
#define KIPC_COPY_CHUNK		(256 * 1024)

/**
 * kipc_copy_chunked() - the copy loop of a read() or write()
 * @count: bytes to copy
 * @copy: copies @n bytes at offset @done of the transfer; returns the
 *        bytes it did not copy (0: all), or a negative errno to stop
 * @ctx: passed to @copy
 *
 * Copies KIPC_COPY_CHUNK bytes at a time, lets the scheduler in between
 * chunks and stops early on a fatal signal, so a 1 GiB read() neither
 * hogs the CPU nor outlives kill -9.  A short copy (a fault in the user
 * buffer) ends the transfer there.
 *
 * Return: the bytes copied if any (a partial transfer is a short count);
 * 0 if @count is 0; otherwise @copy's errno or -EFAULT.
 */
static inline ssize_t kipc_copy_chunked(size_t count,
					long (*copy)(void *ctx, size_t done,
						     size_t n),
					void *ctx)
{
	size_t done = 0;

	while (done < count) {
		size_t n = min_t(size_t, count - done, KIPC_COPY_CHUNK);
		long left;

		if (done && fatal_signal_pending(current))
			break;
		left = copy(ctx, done, n);
		if (left < 0)
			return done ? (ssize_t)done : left;
		done += n - left;
		if (left)
			break;
		cond_resched();
	}
	return done || !count ? (ssize_t)done : -EFAULT;
}

#endif /* KIPC_SHMEM_H */
