// Text analysis: UTF-8 tokenising, case and accent folding, CJK bigrams, stop words, stemming.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "utf8.hpp"

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

// For each ASCII byte: its lowercase form when it belongs to a word, else 0.
struct AsciiWordTable {
    char lower[128] = {};
    constexpr AsciiWordTable() {
        for (int c = 0; c < 128; ++c) {
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) lower[c] = static_cast<char>(c);
            if (c >= 'A' && c <= 'Z') lower[c] = static_cast<char>(c + 32);
        }
    }
    constexpr char operator[](unsigned char c) const { return lower[c]; }
};
inline constexpr AsciiWordTable kAsciiWord{};

// This thread's stemmer for a language, created on first use; Snowball stemmers are not
// thread-safe, so each thread keeps its own.
Stemmer& thread_stemmer(const std::string& language);

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
    enum class CharClass : uint8_t { separator, word, cjk, mark, ignorable };

    static CharClass classify(uint32_t cp);

    void append_folded(uint32_t cp, std::string& out) const;

    AnalyzerConfig m_config;
    std::unordered_set<std::string> m_stopwords;
};

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
        // ASCII fast path: most text is ASCII, and its classes and lowercase are a table away.
        const unsigned char byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            ++i;
            const char lower = kAsciiWord[byte];
            if (lower != 0) {
                if (!cjk_run.empty()) flush_cjk();
                word.push_back(lower);
            } else {
                flush_word();
                flush_cjk();
            }
            continue;
        }
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
            case CharClass::ignorable:
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
