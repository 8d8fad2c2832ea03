/// The commented vigil.yaml that `vigil init` writes: every section, every source and sink type.
/// It loads as is once the environment variables it names are set (a test checks that).
public enum ConfigTemplate {
    /// Variables the template needs (no default given): what a first run must export.
    public static let requiredEnvironment = [
        "EVENTHUBS_CONNECTION_STRING", "AZURE_SUBSCRIPTION_ID", "VIGIL_RESOURCE_GROUP", "VIGIL_WORKSPACE",
        "VIGIL_DCE_ENDPOINT", "VIGIL_DCR_IMMUTABLE_ID", "VIGIL_WEBHOOK_URL", "VIGIL_WEBHOOK_SECRET",
    ]

    public static let text = #"""
    # vigil.yaml: configuration for `vigil run --config vigil.yaml` (and the sinks of `vigil replay`).
    # Every key is documented in docs/configuration.md. Unknown keys are errors, so a typo never falls
    # back to a default silently. Strings may use ${NAME} or ${NAME:-default} from the environment;
    # keep secrets (connection strings, client secrets) in the environment, never in this file.
    # Check it without starting anything:   vigil run --config vigil.yaml --check

    state:
      path: .vigil/state.db            # SQLite: alerts, incidents, outbox, checkpoints, baselines

    rules:
      paths: [detections]              # rule directories or files (default: detections)
      # add: [my-rules]                # more rule directories, added to paths
      # fieldmap: detections/fieldmap.yml   # default: fieldmap.yml beside the rules
      # placeholders:                  # values for Sigma %placeholders%
      #   admin_users: [alice@contoso.com, bob@contoso.com]

    detection:
      lateness: 15m                    # how long event-time windows wait for late events
      batch_events: 5000               # most records per source per commit

    incidents:
      window: 5h                       # alerts sharing an entity within this window join one incident

    sources:
      # Azure storage-export trees (insights-logs-*/…/PT1H.json) or any JSON-lines files, followed live.
      - type: file
        name: exports
        paths: [/var/lib/vigil/exports]
        start_position: beginning      # beginning | end: for files without a checkpoint yet
        poll_interval: 250ms           # longest wait between checks when inotify is quiet
        # inotify: true                # false: poll only (network file systems)
        # rescan_interval: 2s
        # max_line_bytes: 16777216
        # document_timeout: 60s        # a pretty-printed document unfinished this long is reported

      # Event Hubs through its Kafka endpoint (diagnostic settings → Event Hub).
      - type: eventhubs
        name: activity
        connection_string: ${EVENTHUBS_CONNECTION_STRING}   # Endpoint=sb://NS.servicebus.windows.net/;…;EntityPath=HUB
        consumer_group: vigil          # the Kafka group id: several `vigil run` share its partitions
        hubs: [insights-activity-logs]  # default: the connection string's EntityPath
        start_position: earliest       # earliest | latest: for partitions without a committed offset
        # connect_timeout: 60s         # no broker this long: a clear error, then retries with backoff
        # commit_interval: 1s
        # stateful_topic: vigil-stateful  # several processes: stateful rules through a keyed hub (docs/ingest.md)

      # The same with Entra ID (OAUTHBEARER) instead of a connection string:
      # - type: eventhubs
      #   name: signins
      #   namespace: my-namespace      # or my-namespace.servicebus.windows.net
      #   hubs: [insights-logs-signinlogs]
      #   credential:                  # default: AZURE_* environment variables, else managed identity
      #     type: workload_identity    # environment | client_secret | workload_identity | managed_identity

    sinks:
      alerts-file:
        type: jsonl
        path: .vigil/alerts.jsonl      # or - for standard output

      sentinel:                        # incidents straight into Microsoft Sentinel
        type: sentinel_incidents
        subscription_id: ${AZURE_SUBSCRIPTION_ID}
        resource_group_name: ${VIGIL_RESOURCE_GROUP}
        workspace_name: ${VIGIL_WORKSPACE}
        # credential: { type: client_secret }   # default: the AZURE_* environment variables

      logs:                            # alert and incident rows into VigilAlerts_CL / VigilIncidents_CL
        type: logs_ingestion
        endpoint: ${VIGIL_DCE_ENDPOINT}
        dcr_immutable_id: ${VIGIL_DCR_IMMUTABLE_ID}
        alerts_stream_name: Custom-VigilAlerts_CL
        incidents_stream_name: Custom-VigilIncidents_CL

      cef:                             # CEF over syslog to an Azure Monitor Agent forwarder
        type: cef_syslog
        host: ${VIGIL_SYSLOG_HOST:-127.0.0.1}
        port: 514
        transport: tcp
        facility: local4

      webhook:                         # signed JSON POSTs (Teams/Slack relays, SOAR)
        type: webhook
        url: ${VIGIL_WEBHOOK_URL}
        secret: ${VIGIL_WEBHOOK_SECRET}

    outbox:
      max_attempts: 12                 # failed attempts before a row is dead-lettered
      max_age: 24h                     # …or this old
      shutdown_drain: 10s              # on SIGTERM, keep delivering this long before exiting

    metrics:
      listen: 127.0.0.1:9464           # GET /healthz, GET /metrics (Prometheus)

    log:
      level: info                      # trace | debug | info | notice | warning | error | critical
      format: auto                     # auto | text | json

    """#
}
