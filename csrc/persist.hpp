// Binary persistence helpers: checksums, bounded readers, atomic file writes.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "utf8.hpp"

namespace ltrr {

// A file that is not a readable index: foreign, truncated, corrupt or from a newer format.
class FormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An operating-system level failure reading or writing a file.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

uint32_t crc32(const char* data, size_t n);

// Writes bytes to a temporary file beside path, fsyncs it, renames it over path and fsyncs the
// directory, so readers see either the old file or the new one.
void write_file_atomic(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the file format is little-endian");

class Writer {
public:
    template <class T>
    void put(T value) {
        m_out.append(reinterpret_cast<const char*>(&value), sizeof(T));
    }
    void put_string(std::string_view s) {
        put<uint32_t>(static_cast<uint32_t>(s.size()));
        m_out.append(s.data(), s.size());
    }
    // LEB128: seven bits a byte, low bits first.
    void put_varint(uint64_t value) {
        while (value >= 0x80) {
            m_out.push_back(static_cast<char>((value & 0x7F) | 0x80));
            value >>= 7;
        }
        m_out.push_back(static_cast<char>(value));
    }
    // Ascending doc ids as a count and gaps.
    void put_doc_list(const uint32_t* docs, size_t n) {
        put_varint(n);
        uint32_t previous = 0;
        for (size_t i = 0; i < n; ++i) {
            put_varint(i == 0 ? docs[0] : docs[i] - previous);
            previous = docs[i];
        }
    }
    void put_bytes(const void* data, size_t n) { m_out.append(static_cast<const char*>(data), n); }
    std::string& bytes() { return m_out; }

private:
    std::string m_out;
};

// Reads from a buffer; every read is bounds-checked and fails with FormatError.
class Reader {
public:
    Reader(const char* data, size_t size) : m_data(data), m_size(size) {}

    template <class T>
    T get() {
        need(sizeof(T));
        T value;
        std::memcpy(&value, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return value;
    }
    // A length-prefixed UTF-8 string.
    std::string get_string() {
        const uint32_t n = get<uint32_t>();
        need(n);
        std::string s(m_data + m_pos, n);
        m_pos += n;
        if (!valid_utf8(s)) throw FormatError("corrupt index file: a string is not UTF-8");
        return s;
    }
    const char* take(size_t n) {
        need(n);
        const char* p = m_data + m_pos;
        m_pos += n;
        return p;
    }
    uint32_t get_varint32() {
        uint64_t value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            const uint8_t byte = get<uint8_t>();
            value |= static_cast<uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) {
                if (value > UINT32_MAX) break;
                return static_cast<uint32_t>(value);
            }
        }
        throw FormatError("corrupt index file: bad variable-length integer");
    }
    // Doc ids written by put_doc_list; each must be below n_slots and strictly ascending.
    std::vector<uint32_t> get_doc_list(uint64_t n_slots) {
        const uint32_t n = get_varint32();
        if (n > remaining() || n > n_slots) {
            throw FormatError("corrupt index file: doc list longer than the data");
        }
        std::vector<uint32_t> docs(n);
        uint64_t doc = 0;
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t gap = get_varint32();
            if (i > 0 && gap == 0) throw FormatError("corrupt index file: doc ids not ascending");
            doc = (i == 0 ? 0 : doc) + gap;
            if (doc >= n_slots) throw FormatError("corrupt index file: doc id past the last doc");
            docs[i] = static_cast<uint32_t>(doc);
        }
        return docs;
    }
    // A count of items each at least min_item_bytes long; rejects counts the data cannot hold.
    uint64_t get_count(size_t min_item_bytes) {
        const uint64_t n = get<uint64_t>();
        if (min_item_bytes > 0 && n > remaining() / min_item_bytes) {
            throw FormatError("corrupt index file: a count of " + std::to_string(n) +
                              " exceeds the data left");
        }
        return n;
    }
    size_t remaining() const { return m_size - m_pos; }

private:
    void need(size_t n) const {
        if (n > m_size - m_pos) throw FormatError("corrupt or truncated index file");
    }
    const char* m_data;
    size_t m_size;
    size_t m_pos = 0;
};

}  // namespace ltrr
