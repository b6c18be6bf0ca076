/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <kipc/version.h> - the version of the libkipc a program runs with.
 *
 * Link with -lkipc (pkg-config --libs kipc).  See kipc_version(3).
 */
#ifndef KIPC_VERSION_H
#define KIPC_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * kipc_version() - the release of the library, e.g. "0.1.0": the same string
 * as modinfo's "version:" of kipc's modules, `pkg-config --modversion kipc`
 * and every kipc tool's --version, when all come from one release.
 * Never fails; the string is static.
 */
const char *kipc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* KIPC_VERSION_H */
