#include "persist.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace ltrr {

namespace {

std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

std::string os_error(const std::string& what, const std::string& path) {
    return what + " '" + path + "': " + std::strerror(errno);
}

std::string parent_directory(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

uint32_t crc32(const char* data, size_t n) {
    static const std::array<uint32_t, 256> table = make_crc_table();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
        c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xFF] ^ (c >> 8);
    }
    return c ^ 0xFFFFFFFFu;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
    if (path.find('\0') != std::string::npos) throw FileError("path holds a NUL byte");
    // Only a regular file may be replaced: never a device, a directory or a symbolic link.
    struct stat existing;
    mode_t mode = 0644;
    if (::lstat(path.c_str(), &existing) == 0) {
        if (!S_ISREG(existing.st_mode)) {
            throw FileError(
                "cannot save over '" + path +
                "': it exists and is not a regular file (a link, device or directory)");
        }
        mode = existing.st_mode & 07777;
    }
    // A fresh, exclusively created temporary beside the target, so concurrent saves to the
    // same path never share one and a planted link is never followed.
    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) throw FileError(os_error("cannot create a temporary file beside", path));
    ::fchmod(fd, mode);

    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string message = os_error("cannot write", tmp);
            ::close(fd);
            ::unlink(tmp.c_str());
            throw FileError(message);
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string message = os_error("cannot flush", tmp);
        ::unlink(tmp.c_str());
        throw FileError(message);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string message = os_error("cannot move into place", path);
        ::unlink(tmp.c_str());
        throw FileError(message);
    }
    // Make the rename itself durable.
    const int dir = ::open(parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

std::string read_file(const std::string& path) {
    if (path.find('\0') != std::string::npos) throw FileError("path holds a NUL byte");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw FileError(os_error("cannot open", path));
    // Read straight into the result: one copy of the file in memory, not two.
    const std::streamoff size = in.tellg();
    if (size < 0) throw FileError(os_error("cannot size", path));
    std::string bytes(static_cast<size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) throw FileError(os_error("cannot read", path));
    return bytes;
}

}  // namespace ltrr
