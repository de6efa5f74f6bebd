// UTF-8 decoding and encoding shared by the analyzer and the file reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ltrr {

// Decodes one code point at text[i] into cp and advances i. Returns false, advancing one byte,
// for a malformed sequence: a bad lead or continuation byte, truncation, an overlong form, a
// surrogate or a value past U+10FFFF.
inline bool decode_utf8(std::string_view text, size_t& i, uint32_t& cp) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const unsigned char c = s[i];
    if (c < 0x80) {
        cp = c;
        ++i;
        return true;
    }
    size_t len;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else {
        ++i;
        return false;
    }
    if (i + len > text.size()) {
        ++i;
        return false;
    }
    for (size_t j = 1; j < len; ++j) {
        const unsigned char cc = s[i + j];
        if ((cc & 0xC0) != 0x80) {
            ++i;
            return false;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return false;
    }
    i += len;
    return true;
}

// Decodes one code point, mapping malformed input to U+FFFD.
inline uint32_t next_code_point(std::string_view text, size_t& i) {
    uint32_t cp;
    return decode_utf8(text, i, cp) ? cp : 0xFFFD;
}

inline bool valid_utf8(std::string_view text) {
    uint32_t cp;
    for (size_t i = 0; i < text.size();) {
        if (!decode_utf8(text, i, cp)) return false;
    }
    return true;
}

inline void append_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Cuts a token to at most max_bytes without splitting a code point.
inline void truncate_utf8(std::string& token, size_t max_bytes) {
    if (token.size() <= max_bytes) return;
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
    token.resize(cut);
}

}  // namespace ltrr
