/*
 * dashboard.c -- the dashboard page (examples-c/plugins/http/dashboard.html), embedded in the
 * shared object when it is built: the assembler's .incbin copies the file's bytes into read-only
 * data between two hidden symbols. HX_DASHBOARD_PATH (an absolute path, a string) comes from
 * mk/http.mk; nothing but gcc and binutils is needed, and the page is never read from disk at run
 * time, so no request can reach any other file.
 */
#include "http.h"

#ifndef HX_DASHBOARD_PATH
#error "build with -DHX_DASHBOARD_PATH='\"/abs/path/dashboard.html\"' (mk/http.mk does)"
#endif

__asm__(".pushsection .rodata.hx_dashboard,\"a\",@progbits\n"
        ".globl hx_dashboard_start\n.hidden hx_dashboard_start\nhx_dashboard_start:\n"
        ".incbin \"" HX_DASHBOARD_PATH "\"\n"
        ".globl hx_dashboard_end\n.hidden hx_dashboard_end\nhx_dashboard_end:\n"
        ".popsection\n");

extern const char hx_dashboard_start[], hx_dashboard_end[];

const char *hx_dashboard(size_t *len) {
    *len = (size_t)(hx_dashboard_end - hx_dashboard_start);
    return hx_dashboard_start;
}
