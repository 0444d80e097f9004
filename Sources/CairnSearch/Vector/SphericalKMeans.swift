import CBLAS

/// k-means on the unit sphere: points go to the centroid with the largest dot product, and each
/// centroid is its points' mean scaled back to unit length. The coarse quantiser of the IVF
/// lists, matching how they are searched (by dot product with unit vectors).
enum SphericalKMeans {
    /// `clusterCount` unit centroids (row-major) for the rows of `sample`, after
    /// `iterations` rounds of Lloyd's algorithm.
    ///
    /// The first `clusterCount` rows start as the centroids, so `sample` must already be in
    /// random order (the index draws it with a seeded generator); a cluster left empty takes
    /// half of the largest one, as FAISS does. Everything is deterministic given `sample`.
    static func centroids(of sample: [Float], dimension: Int, clusterCount: Int, iterations: Int) -> [Float] {
        let count = sample.count / dimension
        precondition(clusterCount > 0 && clusterCount <= count, "k-means needs between one cluster and one per sampled row")
        var centroids = Array(sample[0..<(clusterCount * dimension)])
        for _ in 0..<iterations {
            let nearest = sample.withUnsafeBufferPointer { sample in
                centroids.withUnsafeBufferPointer { centroids in
                    VectorKernels.nearestCentroids(of: sample, centroids: centroids, dimension: dimension)
                }
            }
            var sizes = [Int](repeating: 0, count: clusterCount)
            centroids.withUnsafeMutableBufferPointer { centroids in
                let centroids = centroids.baseAddress!
                centroids.update(repeating: 0, count: clusterCount * dimension)
                sample.withUnsafeBufferPointer { sample in
                    for row in 0..<count {
                        let cluster = Int(nearest[row])
                        sizes[cluster] += 1
                        cblas_saxpy(blasint(dimension), 1, sample.baseAddress! + row * dimension, 1, centroids + cluster * dimension, 1)
                    }
                }
                for cluster in 0..<clusterCount where sizes[cluster] > 0 {
                    // A mean of opposite points can vanish; treat its cluster as empty.
                    if !VectorKernels.normalize(centroids + cluster * dimension, dimension: dimension) { sizes[cluster] = 0 }
                }
                for cluster in 0..<clusterCount where sizes[cluster] == 0 {
                    splitLargest(into: cluster, centroids: centroids, sizes: &sizes, dimension: dimension)
                }
            }
        }
        return centroids
    }

    /// Gives empty cluster `empty` half of the largest cluster: both centroids become that
    /// cluster's, nudged apart in opposite directions, so the next assignment splits its points.
    private static func splitLargest(into empty: Int, centroids: UnsafeMutablePointer<Float>, sizes: inout [Int], dimension: Int) {
        let largest = sizes.indices.max { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 > $1 }!
        guard sizes[largest] > 1 else { return }
        let nudge: Float = 1.0 / 1024
        let source = centroids + largest * dimension
        let target = centroids + empty * dimension
        for component in 0..<dimension {
            let value = source[component]
            let sign: Float = component % 2 == 0 ? 1 : -1
            target[component] = value * (1 + sign * nudge)
            source[component] = value * (1 - sign * nudge)
        }
        _ = VectorKernels.normalize(source, dimension: dimension)
        _ = VectorKernels.normalize(target, dimension: dimension)
        sizes[empty] = sizes[largest] / 2
        sizes[largest] -= sizes[empty]
    }
}
