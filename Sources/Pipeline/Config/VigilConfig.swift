import Outputs

/// vigil.yaml. (Placeholder until the sinks land: only rejects configs, loudly.)
public struct VigilConfig {
    public static func load(path: String) throws -> VigilConfig {
        throw PipelineError("\(path): config files are not supported yet")
    }

    public func makeSinks() throws -> [any Sink] { [] }
}
