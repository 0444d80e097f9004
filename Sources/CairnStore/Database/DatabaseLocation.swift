public import CairnCore
import Foundation

/// Where Cairn keeps its state: the embedded SQLite file or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// SQLite (WAL) at this path; the embedded default under `CAIRN_HOME`.
    case sqlite(path: String)
    /// PostgreSQL, from a `postgres://user:password@host:port/database?sslmode=…` URL.
    case postgres(PostgresLocation)

    /// Chooses the engine: PostgreSQL when `databaseURL` is set, SQLite under `home` otherwise.
    public static func resolve(databaseURL: String?, home: String) throws(CairnError) -> DatabaseLocation {
        guard let databaseURL, !databaseURL.isEmpty else {
            return .sqlite(path: (home as NSString).appendingPathComponent("cairn.sqlite"))
        }
        return .postgres(try PostgresLocation(url: databaseURL))
    }

    /// Safe to print: never includes the password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }
}

/// The parts of a PostgreSQL URL Cairn uses.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses a `postgres://user:password@host:port/database?sslmode=…` URL; `sslmode` defaults to `prefer`.
    public init(url: String) throws(CairnError) {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme),
            let host = components.host, !host.isEmpty,
            let username = components.percentEncodedUser, !username.isEmpty
        else {
            throw CairnError(.misconfigured, "CAIRN_DATABASE_URL must look like postgres://user:password@host:5432/database.")
        }
        let database = String(components.path.drop { $0 == "/" })
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: TLSMode
        switch sslmode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        default: throw CairnError(.misconfigured, "CAIRN_DATABASE_URL has an unknown sslmode '\(sslmode)'.")
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: username.removingPercentEncoding ?? username,
            password: components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? username : database,
            tls: tls
        )
    }

    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}
