public import CairnCore
public import CairnDocuments
import CairnStore
public import Logging

/// This node's index replicas: one partition per tenant, loaded from the database on first use
/// and kept current from the change feed.
///
/// Every search first applies the changes committed since the partition's last one (one small
/// query when there are none), so a search sees every change committed before it began — an
/// upload approved a moment ago is found, and a retired document is gone. Changes are fetched
/// outside the actor's critical section and applied in one synchronous step, so a concurrent
/// search sees a document's versions either before or after a switch, never a mixture.
public actor SearchIndex {
    private let feed: IndexFeed
    private let dimension: Int?
    private let logger: Logger
    private var partitions: [TenantID: IndexPartition] = [:]
    private var loads: [TenantID: Task<IndexPartition, any Error>] = [:]

    /// - Parameter dimension: the embedding length vectors are indexed at; `nil` indexes text only.
    public init(feed: IndexFeed, dimension: Int?, logger: Logger) {
        self.feed = feed
        self.dimension = dimension
        self.logger = logger
    }

    /// The top `k` hits `principal` may see for the query, after catching up with the feed.
    func search(
        text: String,
        vector: [Float]?,
        mode: SearchMode,
        k: Int,
        fusion: Fusion,
        filter: SearchFilter,
        principal: Principal
    ) async throws -> [(hit: FusedHit, chunk: StoredChunk, document: IndexFeed.IndexedDocument)] {
        try await catchUp(principal.tenantID)
        guard let partition = partitions[principal.tenantID] else { return [] }
        let allowed = partition.allowedSlots(for: principal, filter: filter)
        return partition.index.search(text: text, vector: vector, mode: mode, k: k, fusion: fusion, among: allowed).compactMap { hit in
            partition.entry(at: hit.slot).map { (hit, $0.chunk, $0.document) }
        }
    }

    /// How many chunks the tenant's partition holds (loading it if needed).
    public func chunkCount(tenant: TenantID) async throws -> Int {
        try await catchUp(tenant)
        return partitions[tenant]?.chunkCount ?? 0
    }

    /// Applies every change committed so far for `tenant`, loading its partition first if this
    /// node has none.
    public func catchUp(_ tenant: TenantID) async throws {
        if partitions[tenant] == nil { partitions[tenant] = try await load(tenant) }
        while let partition = partitions[tenant] {
            let from = partition.appliedSequence
            let changes = try await feed.changes(tenant: tenant, after: from)
            guard let last = changes.last?.sequence else { return }
            let ids = Array(Set(changes.map(\.documentID)))
            let states = try await feed.documents(ids, tenant: tenant)
            let loaded = partitions[tenant]?.loadedVersions ?? []
            let missing = states.flatMap(\.indexedVersions).filter { !loaded.contains($0) }
            let chunks = try await feed.chunks(ofVersions: missing, tenant: tenant)
            // Another search may have applied these changes while this one read them.
            guard partitions[tenant]?.appliedSequence == from else { continue }
            let present = Set(states.map(\.id))
            partitions[tenant]?.apply(states: states, removed: ids.filter { !present.contains($0) }, chunks: chunks, through: last)
        }
    }

    /// Builds a tenant's partition from the database: the feed's head first, so changes that
    /// commit during the load are applied afterwards (applying one twice is harmless).
    private func load(_ tenant: TenantID) async throws -> IndexPartition {
        if let running = loads[tenant] { return try await running.value }
        let task = Task { [feed, dimension, logger] in
            let head = try await feed.head(tenant: tenant)
            let states = try await feed.documents(nil, tenant: tenant)
            let chunks = try await feed.chunks(ofVersions: states.flatMap(\.indexedVersions), tenant: tenant)
            var partition = IndexPartition(dimension: dimension, appliedSequence: 0)
            partition.apply(states: states, removed: [], chunks: chunks, through: head)
            logger.info(
                "Index partition loaded",
                metadata: ["tenant": "\(tenant)", "documents": "\(states.count)", "chunks": "\(partition.chunkCount)"]
            )
            return partition
        }
        loads[tenant] = task
        defer { loads[tenant] = nil }
        return try await task.value
    }
}
