/// The security baseline's areas and controls that the coverage matrix lists even when no rule guards
/// them, so gaps show. Control ids are Microsoft cloud security benchmark v1 ids as used by the Azure
/// Machine Learning baseline (see ../shared/reference/aml-detections.md and docs/detections.md).
public struct BaselineCatalogue: Sendable {
    public struct Control: Sendable, Hashable {
        public var id: String
        public var title: String
        /// The area (detections/ folder name) the control is listed under by default.
        public var area: String
        /// `false` for controls that are processes (secure development, training, Blueprints): no
        /// log line can show whether they are followed.
        public var visibleInLogs: Bool

        public init(id: String, title: String, area: String, visibleInLogs: Bool = true) {
            self.id = id
            self.title = title
            self.area = area
            self.visibleInLogs = visibleInLogs
        }
    }

    /// Areas in display order (the pack's folders, then the process-only pseudo-area).
    public var areas: [String]
    public var controls: [Control]

    public init(areas: [String], controls: [Control]) {
        self.areas = areas
        self.controls = controls
    }

    public func control(id: String) -> Control? {
        controls.first { $0.id.equalsIgnoringCase(id) }
    }

    /// The area name of controls no log can show.
    public static let processArea = "process-only"

    public static let azureMachineLearning = BaselineCatalogue(
        areas: ["identity", "network", "data-protection", "threat-protection", "logging", "governance", "backup",
                "containers", processArea],
        controls: [
            .init(id: "IM-1", title: "Use centralized identity and authentication system", area: "identity"),
            .init(id: "IM-3", title: "Manage application identities securely and automatically", area: "identity"),
            .init(id: "IM-6", title: "Use strong authentication controls", area: "identity"),
            .init(id: "IM-7", title: "Restrict resource access based on conditions", area: "identity"),
            .init(id: "IM-8", title: "Restrict the exposure of credentials and secrets", area: "identity"),
            .init(id: "PA-1", title: "Separate and limit highly privileged/administrative users", area: "identity"),
            .init(id: "PA-2", title: "Avoid standing access for accounts and permissions", area: "identity"),
            .init(id: "PA-6", title: "Use privileged access workstations", area: "identity"),
            .init(id: "PA-7", title: "Follow just enough administration (least privilege) principle", area: "identity"),
            .init(id: "NS-1", title: "Establish network segmentation boundaries", area: "network"),
            .init(id: "NS-2", title: "Secure cloud services with network controls", area: "network"),
            .init(id: "DP-1", title: "Discover, classify, and label sensitive data", area: "data-protection"),
            .init(id: "DP-2", title: "Monitor anomalies and threats targeting sensitive data", area: "data-protection"),
            .init(id: "DP-3", title: "Encrypt sensitive data in transit", area: "data-protection"),
            .init(id: "DP-4", title: "Enable data at rest encryption by default", area: "data-protection"),
            .init(id: "DP-5", title: "Use customer-managed key option in data at rest encryption when required",
                  area: "data-protection"),
            .init(id: "DP-6", title: "Use a secure key management process", area: "data-protection"),
            .init(id: "LT-1", title: "Enable threat detection capabilities", area: "threat-protection"),
            .init(id: "LT-3", title: "Enable logging for security investigation", area: "logging"),
            .init(id: "LT-4", title: "Enable network logging for security investigation", area: "logging"),
            .init(id: "AM-2", title: "Use only approved services", area: "governance"),
            .init(id: "AM-3", title: "Ensure security of asset lifecycle management", area: "governance"),
            .init(id: "BR-1", title: "Ensure regular automated backups", area: "backup"),
            .init(id: "BR-2", title: "Protect backup and recovery data", area: "backup"),
            .init(id: "DS", title: "Secure development: threat modelling, code review, supply chain (DevOps security)",
                  area: processArea, visibleInLogs: false),
            .init(id: "Training", title: "Security awareness and role training for workspace users and admins",
                  area: processArea, visibleInLogs: false),
            .init(id: "Blueprints", title: "Azure Blueprints / templated secure deployments of workspaces",
                  area: processArea, visibleInLogs: false),
        ])
}

extension String {
    /// `true` when equal ignoring ASCII case (control ids, area names).
    func equalsIgnoringCase(_ other: String) -> Bool { lowercased() == other.lowercased() }
}
