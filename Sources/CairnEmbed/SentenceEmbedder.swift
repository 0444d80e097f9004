/// Turns texts into vectors whose dot products rank them by meaning.
///
/// ``LocalSentenceEmbedder`` runs all-MiniLM-L6-v2 in process; a remote, OpenAI-compatible
/// embedder conforms too. Vectors from different models are not comparable, so whatever stores
/// a vector stores ``modelName`` with it.
public protocol SentenceEmbedder: Sendable {
    /// Names the model, and so the vector space, the vectors belong to.
    var modelName: String { get }
    /// Length of every vector.
    var dimension: Int { get }
    /// One vector per text, in order, each of length ``dimension`` and unit length.
    func embed(_ texts: [String]) async throws -> [[Float]]
}
