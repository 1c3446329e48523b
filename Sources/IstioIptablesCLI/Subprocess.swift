#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program with posix_spawn, feeding stdin and collecting stdout and stderr with poll(2).
/// (Foundation's Process needs a run-loop socket pair, which fails inside some namespaces.)
enum Subprocess {
    struct Outcome {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) -> Outcome {
        var inputPipe: [Int32] = [-1, -1]
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&inputPipe) == 0, pipe(&outputPipe) == 0, pipe(&errorPipe) == 0 else {
            return Outcome(status: 126, stdout: [], stderr: Array("cannot create pipes".utf8))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for descriptor in inputPipe + outputPipe + errorPipe {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(inputPipe[0])
        close(outputPipe[1])
        close(errorPipe[1])
        guard spawned == 0 else {
            close(inputPipe[1])
            close(outputPipe[0])
            close(errorPipe[0])
            return Outcome(
                status: 127, stdout: [],
                stderr: Array("cannot run \(executable): \(String(cString: strerror(spawned)))".utf8))
        }

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        var writer: Int32 = inputPipe[1]
        if input.isEmpty {
            close(writer)
            writer = -1
        }
        var open: [Int32] = [outputPipe[0], errorPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        // A child that exits without reading its input must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        while !open.isEmpty || writer >= 0 {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if writer >= 0 { fds.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == writer {
                    let count = input[written...].withUnsafeBytes {
                        Glibc.write(writer, $0.baseAddress, $0.count)
                    }
                    if count > 0 { written += count }
                    if count <= 0 || written == input.count {
                        close(writer)
                        writer = -1
                    }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == outputPipe[0] {
                        stdout += buffer[0..<count]
                    } else {
                        stderr += buffer[0..<count]
                    }
                } else {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return Outcome(
            status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: stdout, stderr: stderr)
    }
}
