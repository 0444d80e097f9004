import CairnAPI
import CairnCore
import CairnIngest
import CairnPipelines
import CairnStore
import Foundation
import OpenAPIRuntime

// The extraction pipeline registry.
extension APIHandlers {
    func listPipelines(_ input: Operations.ListPipelines.Input) async throws -> Operations.ListPipelines.Output {
        let pipelines = try await store.pipelines.list(for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(pipelines: pipelines.map { Components.Schemas.Pipeline($0, definitions: false) }))))
    }

    func createPipeline(_ input: Operations.CreatePipeline.Input) async throws -> Operations.CreatePipeline.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let pipeline = try await store.pipelines.createVersion(
            of: body.name,
            source: body.definition,
            place: .newPipeline,
            by: try RequestCaller.principal()
        )
        return .created(.init(body: .json(.init(pipeline, definitions: true))))
    }

    func listPipelineVersions(_ input: Operations.ListPipelineVersions.Input) async throws -> Operations.ListPipelineVersions.Output {
        let pipeline = try await store.pipelines.get(input.path.name, for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(pipeline, definitions: true))))
    }

    func createPipelineVersion(_ input: Operations.CreatePipelineVersion.Input) async throws -> Operations.CreatePipelineVersion.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let pipeline = try await store.pipelines.createVersion(
            of: input.path.name,
            source: body.definition,
            place: .existingPipeline,
            by: try RequestCaller.principal()
        )
        return .created(.init(body: .json(.init(pipeline, definitions: true))))
    }
}

extension APIHandlers {
    func promotePipelineVersion(_ input: Operations.PromotePipelineVersion.Input) async throws -> Operations.PromotePipelineVersion.Output {
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let reason = request.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reason, reason.isEmpty || reason.count > 500 {
            throw CairnError(.invalidInput, "A reason is 1 to 500 characters.")
        }
        if request.override == true, reason == nil {
            throw CairnError(.invalidInput, "An override needs a reason.")
        }
        let promotion = PipelinePromotion(
            store: store,
            blobs: documents.library.blobs,
            evaluation: PipelineEvaluation(parser: documents.parser)
        )
        let outcome = try await promotion.promote(
            input.path.name,
            version: input.path.version,
            overrideReason: request.override == true ? reason : nil,
            by: try RequestCaller.principal()
        )
        return .ok(
            .init(
                body: .json(
                    .init(
                        pipeline: .init(outcome.pipeline, definitions: false),
                        score: outcome.candidate.score,
                        activeScore: outcome.active?.score,
                        regressions: outcome.regressions
                    )
                )
            )
        )
    }
}

extension Components.Schemas.Pipeline {
    init(_ pipeline: Pipeline, definitions: Bool) {
        self.init(
            id: pipeline.id.description,
            name: pipeline.name,
            activeVersion: pipeline.activeVersion,
            createdAt: pipeline.createdAt,
            versions: pipeline.versions.map { version in
                .init(
                    version: version.number,
                    checksum: version.checksum,
                    createdBy: version.createdBy,
                    createdAt: version.createdAt,
                    definition: definitions ? version.source : nil
                )
            }
        )
    }
}
