/*
 * runtime_tid_cache.c -- finds and clears the Swift runtime's per-thread cache of the thread id.
 *
 * The cache is the function-local `tid` of the runtime's inline
 * swift::threading_impl::linux::ulock_get_tid() (swift/Threading/Impl/Linux/ulock.h), a thread-local
 * int that is hidden in every library that holds a copy of it:
 *  - the released build links the runtime in (-static-stdlib, VT_STATIC_SWIFT_RUNTIME): the copy is
 *    in this library and the linker names it;
 *  - builds against the shared runtime (debug, sanitizers) use libswiftCore.so's copy, which has no
 *    dynamic symbol. Its offset in that library's TLS segment is read once from the library's own
 *    symbol table (.symtab, on disk), and the forking thread's block is found before each fork with
 *    dl_iterate_phdr. Without it, children of a process whose threads were busy hung in sanitizer
 *    builds (tests/c/test_fork.c under make test-asan). If the table is stripped, nothing is cleared
 *    and the runtime keeps its own behaviour.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "runtime_tid_cache.h"

#define TID_CACHE_SYMBOL "_ZZN5swift14threading_impl5linux13ulock_get_tidEvE3tid"

#ifdef VT_STATIC_SWIFT_RUNTIME
/* Hidden: it lives in this library, so its address needs no symbol in the dynamic table. */
extern __thread int swift_runtime_cached_tid __asm__(TID_CACHE_SYMBOL) __attribute__((visibility("hidden")));

void runtime_tid_cache_find(void) {}
void runtime_tid_cache_locate(void) {}
void runtime_tid_cache_forget(void) { swift_runtime_cached_tid = 0; }

#else
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char runtime_name[] = "/libswiftCore.so";
static size_t cache_offset = SIZE_MAX;   /* in libswiftCore.so's TLS segment; SIZE_MAX: not found */
static int *forking_thread_cache;        /* set by runtime_tid_cache_locate */

/* The offset of a thread-local symbol in an ELF file's .symtab, or SIZE_MAX. Every table read is
 * bounds-checked against the file's size. */
static size_t tls_symbol_offset(const unsigned char *file, size_t size, const char *name) {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return SIZE_MAX;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr)) return SIZE_MAX;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(file + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr *strtab = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset) return SIZE_MAX;
        if (strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset) return SIZE_MAX;
        const Elf64_Sym *sym = (const Elf64_Sym *)(file + sh[i].sh_offset);
        const char *names = (const char *)(file + strtab->sh_offset);
        size_t count = sh[i].sh_size / sizeof *sym, name_len = strlen(name);
        for (size_t k = 0; k < count; k++) {
            if (ELF64_ST_TYPE(sym[k].st_info) != STT_TLS || sym[k].st_name >= strtab->sh_size) continue;
            if (strtab->sh_size - sym[k].st_name <= name_len) continue;
            if (memcmp(names + sym[k].st_name, name, name_len + 1) == 0) return (size_t)sym[k].st_value;
        }
    }
    return SIZE_MAX;
}

static size_t offset_in_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return SIZE_MAX;
    struct stat st;
    size_t offset = SIZE_MAX;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (file != MAP_FAILED) {
            offset = tls_symbol_offset(file, (size_t)st.st_size, TID_CACHE_SYMBOL);
            munmap(file, (size_t)st.st_size);
        }
    }
    close(fd);
    return offset;
}

/* dl_iterate_phdr visitors: the runtime library's path, and the calling thread's TLS block of it. */
static int is_runtime(const struct dl_phdr_info *info) {
    size_t n = strlen(info->dlpi_name), k = sizeof runtime_name - 1;
    return n >= k && strcmp(info->dlpi_name + n - k, runtime_name) == 0;
}

static int find_path(struct dl_phdr_info *info, size_t size, void *out) {
    (void)size;
    if (!is_runtime(info)) return 0;
    *(size_t *)out = offset_in_file(info->dlpi_name);
    return 1;
}

static int find_block(struct dl_phdr_info *info, size_t size, void *out) {
    (void)size;
    if (!is_runtime(info)) return 0;
    *(void **)out = info->dlpi_tls_data;
    return 1;
}

void runtime_tid_cache_find(void) { dl_iterate_phdr(find_path, &cache_offset); }

void runtime_tid_cache_locate(void) {
    void *block = NULL;
    if (cache_offset != SIZE_MAX) dl_iterate_phdr(find_block, &block);
    forking_thread_cache = block ? (int *)((char *)block + cache_offset) : NULL;
}

void runtime_tid_cache_forget(void) {
    if (forking_thread_cache) *forking_thread_cache = 0;
}
#endif
