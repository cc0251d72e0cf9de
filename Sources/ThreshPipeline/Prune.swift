import Foundation
import ThreshCore
import ThreshIO

/// What `thresh run --prune` removes: outputs of earlier runs that the current plan no longer names.
///
/// Every output under `work/` carries the fingerprint of what made it, so a changed option or input leaves the old
/// files beside the new ones (switching back is then free). Pruning deletes everything under `work/` that the plan
/// does not name — files of other fingerprints, steps renumbered or removed, `.tmp-` files of killed runs — and the
/// `.shards-*` build directories a killed shard step left beside `shards/`. The final outputs (`shards/`,
/// `stats.json`, the dedup report, Slurm logs) are never touched.
public struct PruneList: Sendable {
    /// Paths to remove: files, or directories removed whole.
    public let paths: [String]
    /// Their total size in bytes.
    public let bytes: Int64

    /// Lists the stale outputs of `plan`'s output directory.
    /// - Throws: `.io` when a directory under `work/` cannot be listed.
    public init(_ plan: RunPlan) throws {
        let live = plan.liveOutputs
        // Directories on the way to a live output are walked into, not removed.
        var ancestors: Set<String> = []
        for path in live {
            var parent = Paths.directory(of: path)
            while parent.count > plan.work.count, ancestors.insert(parent).inserted { parent = Paths.directory(of: parent) }
        }
        var stale: [String] = []
        func walk(_ directory: String) throws {
            for name in try listDirectory(directory).sorted() {
                let path = directory + "/" + name
                if live.contains(path) { continue }
                if ancestors.contains(path) && Self.isRealDirectory(path) { try walk(path) } else { stale.append(path) }
            }
        }
        if Self.isRealDirectory(plan.work) { try walk(plan.work) }
        let top = Self.isRealDirectory(plan.pipeline.output) ? try listDirectory(plan.pipeline.output) : []
        for name in top.sorted() where name.hasPrefix(".shards-") {
            stale.append(plan.pipeline.output + "/" + name)
        }
        paths = stale
        bytes = stale.reduce(0) { $0 + Self.treeSize($1) }
    }

    /// Removes the listed paths.
    /// - Throws: `.io` naming a path that could not be removed.
    public func remove() throws {
        for path in paths { try Paths.removeTree(path) }
    }

    static func isRealDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func treeSize(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return Int64(info.st_size) }
        return ((try? listDirectory(path)) ?? []).reduce(0) { $0 + treeSize(path + "/" + $1) }
    }
}

extension RunPlan {
    /// Every path under `work/` this plan reads or writes: files, and directories that belong to it whole.
    var liveOutputs: Set<String> {
        var live: Set<String> = []
        for step in steps {
            switch step.work {
            case .segment(let tasks):
                for t in tasks { live.insert(t.output.path); live.insert(t.statsPath) }
            case .train(let t):
                for f in t.featurize { live.formUnion(f.trainCaches); live.insert(f.validationCache) }
                live.formUnion(t.models)
                live.insert(t.statsPath)
            case .dedup(let jobs):
                for j in jobs { live.insert(j.output); live.insert(j.statsPath) }
            case .lines(let jobs):
                for j in jobs { live.insert(j.output); live.insert(j.statsPath) }
            case .shard(let s):
                live.insert(s.statsPath)
            }
        }
        return live
    }
}
