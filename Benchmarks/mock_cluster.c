/* A librdkafka mock cluster in a process of its own, for Benchmarks/consume_bench.py: the
 * consumers (`vigil run`) then share the machine with the broker, but not their process.
 *
 *   mock_cluster PARTITIONS BODIES_FILE
 *
 * Prints "READY <bootstrap servers>", then reads commands on stdin:
 *   produce  - every line of BODIES_FILE as one message, round-robin over the partitions of topic
 *              "activity"; prints "PRODUCED <messages> <seconds>" once all are acknowledged
 *   quit     - exits
 * The mock keeps about 5 MB (and 100,000 messages) per partition: stay under that. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static rd_kafka_t *client(const char *bootstrap) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (bootstrap && rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    if (rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk) return rk;
fail:
    fprintf(stderr, "mock_cluster: %s\n", err);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: mock_cluster PARTITIONS BODIES_FILE\n"); return 64; }
    int partitions = atoi(argv[1]);
    rd_kafka_t *host = client(NULL);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    if (!mc) { fprintf(stderr, "mock_cluster: cannot create the cluster\n"); return 1; }
    if (rd_kafka_mock_topic_create(mc, "activity", partitions, 1)) { fprintf(stderr, "mock_cluster: cannot create the topic\n"); return 1; }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    printf("READY %s\n", bootstrap);
    fflush(stdout);

    char command[64];
    while (fgets(command, sizeof command, stdin)) {
        if (!strncmp(command, "quit", 4)) break;
        if (strncmp(command, "produce", 7)) continue;
        rd_kafka_t *producer = client(bootstrap);
        rd_kafka_topic_t *topic = rd_kafka_topic_new(producer, "activity", NULL);
        FILE *f = fopen(argv[2], "r");
        if (!f) { perror(argv[2]); return 1; }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long count = 0;
        double start = now();
        while ((n = getline(&line, &cap, f)) > 0) {
            if (line[n - 1] == '\n') n--;
            while (rd_kafka_produce(topic, (int32_t)(count % partitions), RD_KAFKA_MSG_F_COPY, line, (size_t)n, NULL, 0, NULL) != 0)
                rd_kafka_poll(producer, 10);   /* queue full: serve delivery reports */
            rd_kafka_poll(producer, 0);
            count++;
        }
        fclose(f);
        free(line);
        if (rd_kafka_flush(producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) { fprintf(stderr, "mock_cluster: flush timed out\n"); return 1; }
        printf("PRODUCED %ld %.3f\n", count, now() - start);
        fflush(stdout);
        rd_kafka_topic_destroy(topic);
        rd_kafka_destroy(producer);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return 0;
}
