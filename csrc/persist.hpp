// Binary persistence helpers: checksums, bounded readers, atomic file writes.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

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
    void put_bytes(const void* data, size_t n) {
        m_out.append(static_cast<const char*>(data), n);
    }
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
    std::string get_string() {
        const uint32_t n = get<uint32_t>();
        need(n);
        std::string s(m_data + m_pos, n);
        m_pos += n;
        return s;
    }
    const char* take(size_t n) {
        need(n);
        const char* p = m_data + m_pos;
        m_pos += n;
        return p;
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
