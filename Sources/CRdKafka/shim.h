#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Typed wrappers for what Swift cannot call: rd_kafka_producev is variadic. */
static inline rd_kafka_resp_err_t crdk_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                               const void *key, size_t key_len,
                                               const void *value, size_t value_len, void *msg_opaque) {
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_OPAQUE(msg_opaque),
                             RD_KAFKA_V_END);
}
