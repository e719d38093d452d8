// The public header compiles as C++ (make test-header) and its declarations have C linkage.
#include "voicetelemetry.h"

extern "C" vt_status (*const vt_header_cpp_check)(vt_session, size_t, uint64_t);
extern "C" vt_status (*const vt_header_cpp_check)(vt_session, size_t, uint64_t) = &vt_record_audio_out;

static_assert(sizeof(vt_session) == 8, "handles are 64-bit");
static_assert(VT_OK == 0, "VT_OK is zero");
