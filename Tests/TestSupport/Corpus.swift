import Foundation

/// The shared third-party corpus (../shared/corpus), which a clone may not have. Tests that read
/// it call `Corpus.root` and skip, saying so, when it is nil.
public enum Corpus {
    public static let root: URL? = {
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("../shared/corpus").standardized
            if fm.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
            dir.deleteLastPathComponent()
        }
        if let env = ProcessInfo.processInfo.environment["VIGIL_CORPUS"], fm.fileExists(atPath: env) {
            return URL(fileURLWithPath: env)
        }
        return nil
    }()

    public static let skipReason = "../shared/corpus is absent: corpus tests skipped"

    public static func file(_ relative: String) -> URL? { root?.appendingPathComponent(relative) }
}

/// The package root (for fixtures in samples/, detections/ and the built binary).
public enum PackageRoot {
    public static let url: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()
}
