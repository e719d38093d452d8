/* The public header compiles on its own as strict C99 (make test-header). */
#include "voicetelemetry.h"

int vt_header_c_check(void);
int vt_header_c_check(void) {
    vt_session_config cfg = {sizeof(vt_session_config), 0, 0, 0, 0, VT_TEXT_REDACT, 0, 0, 0, 0, VT_CLOCK_MONOTONIC};
    vt_event ev = {VT_EV_AUDIO_OUT, 0, 320, 0};
    vt_usage u = {sizeof(vt_usage), -1, -1, -1, -1, -1};
    return (int)cfg.struct_size + (int)ev.kind + (int)u.struct_size + VT_VERSION_NUMBER;
}
