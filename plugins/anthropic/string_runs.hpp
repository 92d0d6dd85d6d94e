// Finding the end of a run of bytes a JSON string holds as they are, sixteen bytes at a time where
// the machine has SSE2: reading and writing string bytes one at a time was a third of what
// translating a request cost.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace anthropic {

// What ends a run, besides '"', '\\' and control characters (below 0x20).
enum class RunStop {
    kSpecial,            // nothing else: bytes of 0x80 and above are in the run (writing)
    kSpecialOrNonAscii,  // bytes of 0x80 and above too, to check their UTF-8 (reading)
};

// The first byte in [at, end) that ends a run, or `end`.
template <RunStop stop>
const char* run_end(const char* at, const char* end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i below_space = _mm_set1_epi8(0x1f);
    while (end - at >= 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        __m128i special =
            _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
        if constexpr (stop == RunStop::kSpecialOrNonAscii)  // signed: 0x80 and above are below 0x20
            special = _mm_or_si128(special, _mm_cmplt_epi8(bytes, space));
        else  // unsigned: the byte is at most 0x1f when max(byte, 0x1f) is 0x1f
            special = _mm_or_si128(special,
                                   _mm_cmpeq_epi8(_mm_max_epu8(bytes, below_space), below_space));
        if (const int mask = _mm_movemask_epi8(special); mask != 0)
            return at + __builtin_ctz(static_cast<unsigned>(mask));
        at += 16;
    }
#endif
    for (; at != end; ++at) {
        const auto c = static_cast<unsigned char>(*at);
        if (c < 0x20 || c == '"' || c == '\\' || (stop == RunStop::kSpecialOrNonAscii && c >= 0x80))
            return at;
    }
    return at;
}

}  // namespace anthropic
