import PostgresNIO
import SQLiteNIO

/// Whether `error` is the engine saying a UNIQUE constraint rejected the write.
///
/// Used to turn races (two creates of the same tenant name) into a clean `conflict` instead of
/// leaking engine text; both engines report it with their own error types.
package func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? PSQLError {
        return error.serverInfo?[.sqlState] == "23505"
    }
    if let error = error as? SQLiteError {
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
    }
    return false
}
