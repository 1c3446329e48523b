import Foundation

/// `DRY_RUN_FILE_PATH`: upstream opens it with O_CREATE|O_WRONLY (no truncation) and writes
/// from the start, so a longer earlier file keeps its tail. We do the same.
public enum DryRunFile {
    @Sendable public static func write(path: String, contents: String) throws {
        let descriptor = open(path, O_CREAT | O_WRONLY, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes {
                Foundation.write(descriptor, $0.baseAddress, $0.count)
            }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            written += count
        }
    }
}
