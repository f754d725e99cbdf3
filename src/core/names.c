/* SPDX-License-Identifier: Apache-2.0
 *
 * Stable names of qualities and quality reasons, as clients see them.
 */
#include "core/core.h"

static const char *const quality_names[] = {"bad", "uncertain", "good"};

static const char *const reason_names[BW_REASON_COUNT_] = {
    [BW_REASON_NONE] = "none",
    [BW_REASON_WAITING] = "waiting_for_initial_data",
    [BW_REASON_NOT_CONNECTED] = "not_connected",
    [BW_REASON_COMM_FAILURE] = "comm_failure",
    [BW_REASON_DEVICE_FAILURE] = "device_failure",
    [BW_REASON_SENSOR_FAILURE] = "sensor_failure",
    [BW_REASON_CONFIG_ERROR] = "config_error",
    [BW_REASON_OUT_OF_SERVICE] = "out_of_service",
    [BW_REASON_LAST_KNOWN] = "last_known_value",
    [BW_REASON_EU_EXCEEDED] = "engineering_units_exceeded",
    [BW_REASON_SUBSTITUTED] = "substituted",
};

const char *bw_quality_name(enum bw_quality quality)
{
    return (unsigned)quality < BW_ARRAY_LEN(quality_names) ? quality_names[quality] : "?";
}

const char *bw_quality_reason_name(enum bw_quality_reason reason)
{
    return (unsigned)reason < BW_REASON_COUNT_ ? reason_names[reason] : "?";
}
