import CBLAS

/// The arithmetic of the vector index over row-major float matrices.
enum VectorKernels {
    /// The dot product of two vectors of `dimension` floats.
    ///
    /// Every score a search returns comes from here, one row at a time, so a vector scores the
    /// same bits wherever it is stored and whichever path scanned it: duplicate chunks tie
    /// exactly, and approximate and exact search agree on every score. OpenBLAS's `sgemv` does
    /// not: seven identical rows of one matrix came out with three different scores, depending
    /// on their place in its blocks of rows. `sdot` costs a quarter more than `sgemv` once the
    /// rows come from memory (4.0 against 3.1 ms over 100,000 rows of 384), runs on the calling
    /// thread, so concurrent searches never contend for BLAS's thread pool, and is as fast in
    /// the debug builds tests run in as in release ones.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dimension: Int) -> Float {
        cblas_sdot(blasint(dimension), a, 1, b, 1)
    }

    /// For each row, the index of the centroid with the largest dot product (the
    /// lowest index among equals).
    ///
    /// Scores come from `sgemm` in blocks of rows, small enough that a block's scores (at most
    /// 16 MB) stay near the cache while it is searched for its maxima.
    static func nearestCentroids(
        of rows: UnsafeBufferPointer<Float>,
        centroids: UnsafeBufferPointer<Float>,
        dimension: Int
    ) -> [Int32] {
        let count = rows.count / dimension
        let centroidCount = centroids.count / dimension
        var nearest = [Int32](repeating: 0, count: count)
        guard count > 0, let rows = rows.baseAddress, let centroids = centroids.baseAddress else { return nearest }
        let blockRows = max(1, min(count, 4_194_304 / centroidCount))
        var scores = [Float](repeating: 0, count: blockRows * centroidCount)
        scores.withUnsafeMutableBufferPointer { scores in
            let scores = scores.baseAddress!
            var start = 0
            while start < count {
                let rowsInBlock = min(blockRows, count - start)
                cblas_sgemm(
                    CblasRowMajor,
                    CblasNoTrans,
                    CblasTrans,
                    blasint(rowsInBlock),
                    blasint(centroidCount),
                    blasint(dimension),
                    1,
                    rows + start * dimension,
                    blasint(dimension),
                    centroids,
                    blasint(dimension),
                    0,
                    scores,
                    blasint(centroidCount)
                )
                for row in 0..<rowsInBlock {
                    nearest[start + row] = Int32(indexOfMaximum(scores + row * centroidCount, count: centroidCount))
                }
                start += rowsInBlock
            }
        }
        return nearest
    }

    /// The index of the largest of `count` values, the first among equals.
    ///
    /// A plain loop: as fast as a two-pass SIMD search once the scores come from memory
    /// (measured over rows of 3,578), and many times faster in debug builds, where the generic
    /// SIMD operations are not specialised.
    static func indexOfMaximum(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var maximum = values[0]
        var index = 0
        for candidate in 1..<count where values[candidate] > maximum {
            maximum = values[candidate]
            index = candidate
        }
        return index
    }

    /// The sum of the squares of `vector`'s components.
    static func squaredNorm(_ vector: UnsafeBufferPointer<Float>) -> Float {
        guard let base = vector.baseAddress else { return 0 }
        return cblas_sdot(blasint(vector.count), base, 1, base, 1)
    }

    /// Scales `vector` to unit length in place; false, leaving it unchanged, when it is zero.
    static func normalize(_ vector: UnsafeMutablePointer<Float>, dimension: Int) -> Bool {
        let norm = cblas_snrm2(blasint(dimension), vector, 1)
        guard norm > 0 else { return false }
        cblas_sscal(blasint(dimension), 1 / norm, vector, 1)
        return true
    }
}
