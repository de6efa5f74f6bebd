// Text analysis: UTF-8 tokenising, case and accent folding, CJK bigrams, stop words, stemming.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct sb_stemmer;

namespace ltrr {

struct AnalyzerConfig {
    bool fold_accents = true;
    bool cjk_bigrams = true;
    std::string stemmer;                 // Snowball language name, empty for none
    std::vector<std::string> stopwords;  // folded the same way as document text
};

// Owns one Snowball stemmer; not thread-safe, so each thread keeps its own.
class Stemmer {
public:
    explicit Stemmer(const std::string& language);
    ~Stemmer();
    Stemmer(const Stemmer&) = delete;
    Stemmer& operator=(const Stemmer&) = delete;

    std::string stem(std::string_view word);

private:
    sb_stemmer* m_stemmer = nullptr;
};

class Analyzer {
public:
    explicit Analyzer(AnalyzerConfig config);

    const AnalyzerConfig& config() const { return m_config; }

    // Splits text into normalised tokens (folded, stop words removed, not stemmed) and calls
    // emit(std::string_view) for each, in text order.
    template <class Emit>
    void tokenize(std::string_view text, Emit&& emit) const;

    bool is_stopword(std::string_view token) const;
    bool stems() const { return !m_config.stemmer.empty(); }

    // Longest token kept, in bytes; longer runs are cut at a code point boundary.
    static constexpr size_t kMaxTokenBytes = 255;

private:
    enum class CharClass : uint8_t { separator, word, cjk, mark };

    static CharClass classify(uint32_t cp);
    void append_folded(uint32_t cp, std::string& out) const;

    AnalyzerConfig m_config;
    std::unordered_set<std::string> m_stopwords;
};

// Decodes one code point at text[i], advancing i. Invalid bytes decode as U+FFFD.
inline uint32_t next_code_point(std::string_view text, size_t& i) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    const unsigned char c = s[i];
    if (c < 0x80) {
        ++i;
        return c;
    }
    int len = 0;
    uint32_t cp = 0;
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
        return 0xFFFD;
    }
    if (i + len > n) {
        ++i;
        return 0xFFFD;
    }
    for (int j = 1; j < len; ++j) {
        const unsigned char cc = s[i + j];
        if ((cc & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    i += len;
    return cp;
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

template <class Emit>
void Analyzer::tokenize(std::string_view text, Emit&& emit) const {
    std::string word;
    std::vector<uint32_t> cjk_run;

    auto flush_word = [&]() {
        if (word.empty()) return;
        truncate_utf8(word, kMaxTokenBytes);
        if (!is_stopword(word)) emit(std::string_view(word));
        word.clear();
    };
    // A run of CJK characters becomes overlapping bigrams; a lone character stays a unigram.
    auto flush_cjk = [&]() {
        if (cjk_run.empty()) return;
        std::string gram;
        if (cjk_run.size() == 1 || !m_config.cjk_bigrams) {
            for (uint32_t cp : cjk_run) {
                gram.clear();
                append_utf8(cp, gram);
                if (!is_stopword(gram)) emit(std::string_view(gram));
            }
        } else {
            for (size_t j = 0; j + 1 < cjk_run.size(); ++j) {
                gram.clear();
                append_utf8(cjk_run[j], gram);
                append_utf8(cjk_run[j + 1], gram);
                if (!is_stopword(gram)) emit(std::string_view(gram));
            }
        }
        cjk_run.clear();
    };

    size_t i = 0;
    while (i < text.size()) {
        const uint32_t cp = next_code_point(text, i);
        switch (classify(cp)) {
            case CharClass::word:
                flush_cjk();
                append_folded(cp, word);
                break;
            case CharClass::mark:
                // Combining marks belong to the letter before them; accent folding drops them.
                if (!word.empty() && !m_config.fold_accents) append_utf8(cp, word);
                break;
            case CharClass::cjk:
                flush_word();
                cjk_run.push_back(cp);
                break;
            case CharClass::separator:
                flush_word();
                flush_cjk();
                break;
        }
    }
    flush_word();
    flush_cjk();
}

}  // namespace ltrr
