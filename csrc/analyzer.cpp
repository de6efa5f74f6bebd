#include "analyzer.hpp"

#include <libstemmer.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace ltrr {

namespace {

struct FoldEntry {
    uint32_t code_point;
    const char* folded;
};

#include "fold_table.inc"

const char* find_fold(const FoldEntry* table, size_t size, uint32_t cp) {
    const FoldEntry* end = table + size;
    const FoldEntry* it = std::lower_bound(
        table, end, cp, [](const FoldEntry& e, uint32_t v) { return e.code_point < v; });
    return (it != end && it->code_point == cp) ? it->folded : nullptr;
}

bool in(uint32_t cp, uint32_t lo, uint32_t hi) {
    return cp >= lo && cp <= hi;
}

}  // namespace

Stemmer::Stemmer(const std::string& language) {
    m_stemmer = sb_stemmer_new(language.c_str(), "UTF_8");
    if (m_stemmer == nullptr) {
        throw std::invalid_argument("unknown stemmer language '" + language +
                                    "'; expected a Snowball language such as 'english'");
    }
}

Stemmer::~Stemmer() {
    if (m_stemmer != nullptr) sb_stemmer_delete(m_stemmer);
}

Stemmer& thread_stemmer(const std::string& language) {
    thread_local std::unordered_map<std::string, std::unique_ptr<Stemmer>> stemmers;
    auto& stemmer = stemmers[language];
    if (!stemmer) stemmer = std::make_unique<Stemmer>(language);
    return *stemmer;
}

std::string Stemmer::stem(std::string_view word) {
    const sb_symbol* out = sb_stemmer_stem(
        m_stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
    if (out == nullptr) return std::string(word);  // out of memory inside Snowball: keep the word
    return std::string(reinterpret_cast<const char*>(out), sb_stemmer_length(m_stemmer));
}

Analyzer::Analyzer(AnalyzerConfig config) : m_config(std::move(config)) {
    if (!m_config.stemmer.empty()) thread_stemmer(m_config.stemmer);  // fail early on a bad name
    if (m_config.stopwords.empty()) return;
    // Stop words pass through the same folding as text, so "Über" stops "uber".
    AnalyzerConfig plain = m_config;
    plain.stopwords.clear();
    plain.stemmer.clear();
    const Analyzer folder(plain);
    for (const auto& word : m_config.stopwords) {
        folder.tokenize(word, [&](std::string_view t) { m_stopwords.emplace(t); });
    }
}

bool Analyzer::is_stopword(std::string_view token) const {
    if (m_stopwords.empty()) return false;
    return m_stopwords.count(std::string(token)) != 0;
}

Analyzer::CharClass Analyzer::classify(uint32_t cp) {
    if (cp < 0x80) {
        const bool alnum =
            (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
        return alnum ? CharClass::word : CharClass::separator;
    }
    // Invisible characters that sit inside words: soft hyphen, zero-width (non-)joiner, word
    // joiner, byte order mark.
    if (cp == 0x00AD || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF) {
        return CharClass::ignorable;
    }
    if (in(cp, 0x0300, 0x036F) || in(cp, 0x1AB0, 0x1AFF) || in(cp, 0x1DC0, 0x1DFF) ||
        in(cp, 0x20D0, 0x20FF) || in(cp, 0xFE20, 0xFE2F)) {
        return CharClass::mark;
    }
    // Latin-1 punctuation and symbols, the multiplication and division signs.
    if (in(cp, 0x0080, 0x00BF) || cp == 0x00D7 || cp == 0x00F7) return CharClass::separator;
    // General punctuation through dingbats, arrows, maths and misc symbols; braille; emoji;
    // private use; specials; variation selectors and tags.
    if (in(cp, 0x2000, 0x2BFF) || in(cp, 0x2E00, 0x2E7F) || in(cp, 0xE000, 0xF8FF) ||
        in(cp, 0xFE00, 0xFE0F) || in(cp, 0xFFF0, 0xFFFF) || in(cp, 0x1F000, 0x1FBFF) ||
        in(cp, 0xE0000, 0xE01EF) || in(cp, 0xF0000, 0x10FFFF)) {
        return CharClass::separator;
    }
    // CJK and fullwidth punctuation.
    if (in(cp, 0x3000, 0x303F) || in(cp, 0xFE10, 0xFE1F) || in(cp, 0xFE30, 0xFE6F) ||
        in(cp, 0xFF00, 0xFF0F) || in(cp, 0xFF1A, 0xFF20) || in(cp, 0xFF3B, 0xFF40) ||
        in(cp, 0xFF5B, 0xFF65) || cp == 0x30FB) {
        return CharClass::separator;
    }
    // Scripts written without spaces between words: Han, kana, Hangul.
    if (in(cp, 0x3040, 0x30FF) || in(cp, 0x3400, 0x4DBF) || in(cp, 0x4E00, 0x9FFF) ||
        in(cp, 0xF900, 0xFAFF) || in(cp, 0xAC00, 0xD7AF) || in(cp, 0x1100, 0x11FF) ||
        in(cp, 0x3130, 0x318F) || in(cp, 0xFF66, 0xFF9F) || in(cp, 0x20000, 0x2FA1F) ||
        in(cp, 0x31F0, 0x31FF)) {
        return CharClass::cjk;
    }
    return CharClass::word;
}

void Analyzer::append_folded(uint32_t cp, std::string& out) const {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    const char* folded = m_config.fold_accents ? find_fold(kFoldAccents, kFoldAccentsSize, cp)
                                               : find_fold(kLowerOnly, kLowerOnlySize, cp);
    if (folded != nullptr) {
        out.append(folded);
    } else {
        append_utf8(cp, out);
    }
}

}  // namespace ltrr
