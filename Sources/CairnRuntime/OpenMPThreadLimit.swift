import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tesseract reads each page with OpenMP threads which, beside Cairn's own parallel work, cost
/// far more than they save: a three-page scan parses in 10.6 s with them and 1.9 s without, on
/// an otherwise idle two-core machine. OpenMP reads its thread limit once, when the library
/// loads, before any Swift runs; so a process started without `OMP_THREAD_LIMIT` sets it and
/// starts itself again. An operator's own value is kept.
package enum OpenMPThreadLimit {
    package static let variable = "OMP_THREAD_LIMIT"

    /// Returns when the limit is in force; otherwise replaces the process with itself, limited.
    /// If that fails, the process carries on with OpenMP's defaults: slower, still correct.
    package static func ensure() {
        guard getenv(variable) == nil else { return }
        setenv(variable, "1", 1)
        var arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &arguments)
    }
}
