/* SPDX-License-Identifier: Apache-2.0
 *
 * The project loader refuses bad projects with the exact JSON path and
 * reason an integrator reads: one cmocka test per bad input (a table),
 * then several errors reported in one go, the error cap, and escaping of
 * hostile text in reasons and paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"

/* A valid project up to the tags; cases append their tags. */
#define PRE                                                                                        \
    "{'format':1,'name':'plant',"                                                                  \
    "'scan_classes':[{'name':'fast','period_ms':100},{'name':'slow','period_ms':5000}],"           \
    "'devices':[{'name':'plc1','driver':'sim','scan_class':'fast'}],"                              \
    "'simulator':{'signals':[{'name':'S1','shape':'sine','min':0,'max':10,'period_ms':60000}],"    \
    "'tanks':[{'name':'T1','area_m2':10,'height_m':5,'level_m':2}],"                               \
    "'pumps':[{'name':'P1','to':'T1','flow_m3h':50,'pressure_bar':3}],"                            \
    "'valves':[{'name':'V1','from':'T1','flow_m3h':40}],"                                          \
    "'dosers':[{'name':'D1','tank':'T1','max_dose_mg_l':2}]},"
#define TAGS(t) PRE "'tags':[" t "]}"
#define SIM(s) "{'format':1,'name':'plant','simulator':{" s "}}"
#define TANK(n) "{'name':'" n "','area_m2':10,'height_m':5,'level_m':2}"
#define DEV(d)                                                                                     \
    "{'format':1,'name':'p','scan_classes':[{'name':'fast','period_ms':100}],'devices':[" d "]}"
#define A16 "aaaaaaaaaaaaaaaa"
#define AUDIT(a) "{'format':1,'name':'p','audit':{" a "}}"
#define FWD(f) AUDIT("'forward':{" f "}")
#define FWD_OK "'host':'collector.example','ca_file':'certs/ca.pem'"
/* Write rules: a writable memory setpoint, pump and valve tags. */
#define WR "'access':{'write':{'level':1,'areas':[1]}}"
#define SP(x) "{'name':'SP','type':'float','min':0,'max':10,'initial':5," WR "," x "}"
#define RUN "{'name':'P1.running','type':'bool','device':'plc1','address':'P1.running'," WR "}"
#define VALVE(x)                                                                                   \
    "{'name':'V1.pos','type':'float','min':0,'max':100,'device':'plc1','address':'V1.position'"    \
    "," WR "," x "}"
#define WHEN(c) SP("'validate':{'when':[" c "]}")
#define FS(f) VALVE("'failsafe':{" f "}")

struct bad_case {
    const char *name;
    const char *json;
    const char *path;
    const char *reason;
};

static const struct bad_case cases[] = {
    /* structure and JSON kinds */
    {"root_not_object", "[1,2]", "", "must be an object"},
    {"format_missing", "{'name':'p'}", "format", "is required"},
    {"format_wrong", "{'format':2,'name':'p'}", "format", "must be 1"},
    {"format_string", "{'format':'1','name':'p'}", "format", "must be an integer"},
    {"name_missing", "{'format':1}", "name", "is required"},
    {"unknown_top_key", "{'format':1,'name':'p','tgas':[]}", "tgas", "unknown key"},
    {"tags_not_array", "{'format':1,'name':'p','tags':{}}", "tags", "must be an array"},
    {"tag_not_object", "{'format':1,'name':'p','tags':[3]}", "tags[0]", "must be an object"},
    {"simulator_not_object", "{'format':1,'name':'p','simulator':[]}", "simulator",
     "must be an object"},
    {"description_not_string", "{'format':1,'name':'p','description':true}", "description",
     "must be a string"},
    /* tag fields */
    {"tag_type_typo", TAGS("{'name':'a','type':'flaot'}"), "tags[0].type",
     "\"flaot\" is not one of bool, int, float, string"},
    {"tag_name_missing", TAGS("{'type':'int'}"), "tags[0].name", "is required"},
    {"tag_type_missing", TAGS("{'name':'a'}"), "tags[0].type", "is required"},
    {"tag_unknown_key", TAGS("{'name':'a','type':'int','unti':'m'}"), "tags[0].unti",
     "unknown key"},
    {"tag_odd_unknown_key", TAGS("{'name':'a','type':'int','bad key':1}"), "tags[0][\"bad key\"]",
     "unknown key"},
    {"tag_name_not_string", TAGS("{'name':5,'type':'int'}"), "tags[0].name", "must be a string"},
    {"tag_name_space", TAGS("{'name':'Pump 1','type':'int'}"), "tags[0].name",
     "\"Pump 1\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"tag_name_digit_first", TAGS("{'name':'1a','type':'int'}"), "tags[0].name",
     "\"1a\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"tag_name_empty", TAGS("{'name':'','type':'int'}"), "tags[0].name",
     "\"\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"tag_name_control", TAGS("{'name':'a\\u0001b','type':'int'}"), "tags[0].name",
     "\"a\\x01b\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"tag_name_too_long", TAGS("{'name':'" A16 A16 A16 A16 A16 A16 A16 A16 "a','type':'int'}"),
     "tags[0].name", "must be at most 128 bytes"},
    {"tag_name_duplicate", TAGS("{'name':'P1','type':'int'},{'name':'P1','type':'int'}"),
     "tags[1].name", "duplicate name \"P1\" (first used at tags[0].name)"},
    {"tag_unit_not_string", TAGS("{'name':'a','type':'float','unit':5}"), "tags[0].unit",
     "must be a string"},
    {"tag_min_not_number", TAGS("{'name':'a','type':'float','min':'0'}"), "tags[0].min",
     "must be a number"},
    {"tag_min_gt_max", TAGS("{'name':'a','type':'float','min':10,'max':5}"), "tags[0].min",
     "must not be greater than max (5)"},
    {"tag_range_on_bool", TAGS("{'name':'a','type':'bool','min':0}"), "tags[0].min",
     "is only for int and float tags"},
    /* device, address, scan class, initial */
    {"tag_no_device", TAGS("{'name':'a','type':'float','device':'plc9','address':'T1.level'}"),
     "tags[0].device", "no device named \"plc9\""},
    {"tag_no_scan_class",
     TAGS("{'name':'a','type':'float','device':'plc1','address':'T1.level','scan_class':'mid'}"),
     "tags[0].scan_class", "no scan class named \"mid\""},
    {"tag_device_no_address", TAGS("{'name':'a','type':'float','device':'plc1'}"),
     "tags[0].address", "is required for a tag with a \"device\""},
    {"tag_memory_address", TAGS("{'name':'a','type':'float','address':'T1.level'}"),
     "tags[0].address", "is only for tags with a \"device\""},
    {"tag_memory_scan_class", TAGS("{'name':'a','type':'float','scan_class':'fast'}"),
     "tags[0].scan_class", "is only for tags with a \"device\""},
    {"tag_device_initial",
     TAGS("{'name':'a','type':'float','device':'plc1','address':'T1.level','initial':1}"),
     "tags[0].initial", "is only for memory tags (tags without a \"device\")"},
    {"tag_initial_type", TAGS("{'name':'a','type':'int','initial':'x'}"), "tags[0].initial",
     "must be an integer (the tag is int)"},
    {"tag_initial_real_for_int", TAGS("{'name':'a','type':'int','initial':1.5}"), "tags[0].initial",
     "must be an integer (the tag is int)"},
    {"tag_initial_bool", TAGS("{'name':'a','type':'bool','initial':1}"), "tags[0].initial",
     "must be true or false (the tag is bool)"},
    {"tag_initial_range", TAGS("{'name':'a','type':'float','min':0,'max':10,'initial':11}"),
     "tags[0].initial", "must be between min (0) and max (10)"},
    {"tag_initial_below_min", TAGS("{'name':'a','type':'int','min':-5,'initial':-6}"),
     "tags[0].initial", "must be at least min (-5)"},
    /* simulator addresses */
    {"sim_not_address", TAGS("{'name':'a','type':'float','device':'plc1','address':'level'}"),
     "tags[0].address", "\"level\" is not a simulator address (ELEMENT.VARIABLE)"},
    {"sim_no_element", TAGS("{'name':'a','type':'float','device':'plc1','address':'T9.level'}"),
     "tags[0].address", "no simulator element named \"T9\""},
    {"sim_no_variable", TAGS("{'name':'a','type':'float','device':'plc1','address':'T1.levle'}"),
     "tags[0].address",
     "\"T1\" is a tank, which has no variable \"levle\" (level, volume, level_pct, chlorine)"},
    {"sim_type_mismatch", TAGS("{'name':'a','type':'int','device':'plc1','address':'T1.level'}"),
     "tags[0].address", "\"T1.level\" is a float variable but the tag is int"},
    {"sim_read_only",
     TAGS("{'name':'a','type':'float','device':'plc1','address':'T1.level',"
          "'access':{'write':{'level':100,'areas':[1]}}}"),
     "tags[0].access.write", "\"T1.level\" is read-only, so the tag cannot be writable"},
    /* access */
    {"access_level_zero",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':0,'areas':[1]}}}"),
     "tags[0].access.read.level", "must be between 1 and 9999"},
    {"access_level_high",
     TAGS("{'name':'a','type':'int','access':{'write':{'level':10000,'areas':[1]}}}"),
     "tags[0].access.write.level", "must be between 1 and 9999"},
    {"access_level_missing", TAGS("{'name':'a','type':'int','access':{'read':{'areas':[1]}}}"),
     "tags[0].access.read.level", "is required"},
    {"access_area_range",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':1,'areas':[1,32]}}}"),
     "tags[0].access.read.areas[1]", "must be between 1 and 31"},
    {"access_area_twice",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':1,'areas':[3,3]}}}"),
     "tags[0].access.read.areas[1]", "area 3 is listed twice"},
    {"access_area_not_int",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':1,'areas':['1']}}}"),
     "tags[0].access.read.areas[0]", "must be an integer"},
    {"access_areas_empty",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':1,'areas':[]}}}"),
     "tags[0].access.read.areas", "must list at least one area"},
    {"access_areas_not_array",
     TAGS("{'name':'a','type':'int','access':{'read':{'level':1,'areas':1}}}"),
     "tags[0].access.read.areas", "must be an array"},
    {"access_permission",
     TAGS("{'name':'a','type':'int','access':{'write':{'level':1,'areas':[1],"
          "'permission':'tag.writ'}}}"),
     "tags[0].access.write.permission",
     "\"tag.writ\" is not one of tag.read, tag.write, alarm.ack, alarm.shelve, user.manage, "
     "audit.read, config.change, backup.run, session.manage, override"},
    {"access_unknown", TAGS("{'name':'a','type':'int','access':{'wrte':{}}}"),
     "tags[0].access.wrte", "unknown key"},
    /* scan classes and devices */
    {"scan_period_low", "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':0}]}",
     "scan_classes[0].period_ms", "must be between 1 and 3600000"},
    {"scan_period_real", "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':1.5}]}",
     "scan_classes[0].period_ms", "must be an integer"},
    {"device_driver", DEV("{'name':'d','driver':'opcua','scan_class':'fast'}"), "devices[0].driver",
     "\"opcua\" is not one of sim, modbus"},
    {"device_scan_class", DEV("{'name':'d','driver':'sim','scan_class':'x'}"),
     "devices[0].scan_class", "no scan class named \"x\""},
    {"device_seed", DEV("{'name':'d','driver':'sim','scan_class':'fast','parameters':{'seed':-1}}"),
     "devices[0].parameters.seed", "must be at least 0"},
    {"device_param_unknown",
     DEV("{'name':'d','driver':'sim','scan_class':'fast','parameters':{'speed':1}}"),
     "devices[0].parameters.speed", "unknown key"},
    {"device_duplicate",
     DEV("{'name':'d','driver':'sim','scan_class':'fast'},{'name':'d','driver':'sim',"
         "'scan_class':'fast'}"),
     "devices[1].name", "duplicate name \"d\" (first used at devices[0].name)"},
    /* simulator */
    {"sim_shared_names",
     SIM("'tanks':[" TANK("X") "],'pumps':[{'name':'X','flow_m3h':1,"
                               "'pressure_bar':1}]"),
     "simulator.pumps[0].name", "duplicate name \"X\" (first used at simulator.tanks[0].name)"},
    {"sim_tank_area", SIM("'tanks':[{'name':'T','area_m2':0,'height_m':5,'level_m':2}]"),
     "simulator.tanks[0].area_m2", "must be greater than 0 and at most 1000000"},
    {"sim_tank_overfull", SIM("'tanks':[{'name':'T','area_m2':1,'height_m':5,'level_m':6}]"),
     "simulator.tanks[0].level_m", "must not be greater than height_m (5)"},
    {"sim_pump_from_pump",
     SIM("'pumps':[{'name':'P0','flow_m3h':1,'pressure_bar':1},"
         "{'name':'P2','from':'P0','flow_m3h':1,'pressure_bar':1}]"),
     "simulator.pumps[1].from", "\"P0\" is a pump, not a tank"},
    {"sim_pump_running", SIM("'pumps':[{'name':'P','flow_m3h':1,'pressure_bar':1,'running':1}]"),
     "simulator.pumps[0].running", "must be true or false"},
    {"sim_valve_same_tank",
     SIM("'tanks':[" TANK("T") "],'valves':[{'name':'V','from':'T','to':'T','flow_m3h':1}]"),
     "simulator.valves[0].to", "must not be the same tank as \"from\""},
    {"sim_valve_no_from", SIM("'valves':[{'name':'V','flow_m3h':1}]"), "simulator.valves[0].from",
     "is required"},
    {"sim_doser_rate",
     SIM("'tanks':[" TANK("T") "],'dosers':[{'name':'D','tank':'T','max_dose_mg_l':1,"
                               "'rate_pct':101}]"),
     "simulator.dosers[0].rate_pct", "must be between 0 and 100"},
    {"sim_signal_shape",
     SIM("'signals':[{'name':'S','shape':'saw','min':0,'max':1,'period_ms':100}]"),
     "simulator.signals[0].shape", "\"saw\" is not one of sine, ramp, square, random_walk, step"},
    {"sim_steps_wrong_shape",
     SIM("'signals':[{'name':'S','shape':'sine','min':0,'max':1,'period_ms':100,'steps':[0]}]"),
     "simulator.signals[0].steps", "is only for shape \"step\""},
    {"sim_step_range",
     SIM("'signals':[{'name':'S','shape':'step','min':0,'max':10,'period_ms':100,"
         "'steps':[1,11]}]"),
     "simulator.signals[0].steps[1]", "must be between min (0) and max (10)"},
    {"sim_step_not_number",
     SIM("'signals':[{'name':'S','shape':'step','min':0,'max':10,'period_ms':100,"
         "'steps':[1,'x']}]"),
     "simulator.signals[0].steps[1]", "must be a number"},
    {"sim_max_step_zero",
     SIM("'signals':[{'name':'S','shape':'random_walk','min':0,'max':1,'period_ms':100,"
         "'max_step':0}]"),
     "simulator.signals[0].max_step", "must be greater than 0"},
    {"sim_unknown_section", SIM("'pipes':[]"), "simulator.pipes", "unknown key"},
    /* audit */
    {"audit_not_object", "{'format':1,'name':'p','audit':[]}", "audit", "must be an object"},
    {"audit_unknown_key", AUDIT("'max_size':1"), "audit.max_size", "unknown key"},
    {"audit_size_zero", AUDIT("'max_size_mb':0"), "audit.max_size_mb",
     "must be between 1 and 1048576"},
    {"audit_size_high", AUDIT("'max_size_mb':1048577"), "audit.max_size_mb",
     "must be between 1 and 1048576"},
    {"audit_size_real", AUDIT("'max_size_mb':1.5"), "audit.max_size_mb", "must be an integer"},
    {"audit_size_string", AUDIT("'max_size_mb':'1024'"), "audit.max_size_mb", "must be an integer"},
    {"audit_age_negative", AUDIT("'max_age_days':-1"), "audit.max_age_days",
     "must be between 0 and 36500"},
    {"audit_age_high", AUDIT("'max_age_days':36501"), "audit.max_age_days",
     "must be between 0 and 36500"},
    {"audit_age_refuse", AUDIT("'max_age_days':30,'when_full':'refuse'"), "audit.max_age_days",
     "must be 0 unless when_full is \"archive\""},
    {"audit_when_full", AUDIT("'when_full':'rotate'"), "audit.when_full",
     "\"rotate\" is not one of archive, refuse"},
    {"audit_on_failure", AUDIT("'on_failure':'ignore'"), "audit.on_failure",
     "\"ignore\" is not one of continue, refuse"},
    {"audit_on_failure_bool", AUDIT("'on_failure':true"), "audit.on_failure", "must be a string"},
    {"audit_records_zero", AUDIT("'checkpoint_records':0"), "audit.checkpoint_records",
     "must be between 1 and 1000000"},
    {"audit_records_high", AUDIT("'checkpoint_records':1000001"), "audit.checkpoint_records",
     "must be between 1 and 1000000"},
    {"audit_seconds_zero", AUDIT("'checkpoint_seconds':0"), "audit.checkpoint_seconds",
     "must be between 1 and 86400"},
    {"audit_seconds_high", AUDIT("'checkpoint_seconds':86401"), "audit.checkpoint_seconds",
     "must be between 1 and 86400"},
    {"audit_warn_not_array", AUDIT("'warn_percent':80"), "audit.warn_percent", "must be an array"},
    {"audit_warn_empty", AUDIT("'warn_percent':[]"), "audit.warn_percent",
     "must have 1 to 4 values"},
    {"audit_warn_five", AUDIT("'warn_percent':[10,20,30,40,50]"), "audit.warn_percent",
     "must have 1 to 4 values"},
    {"audit_warn_zero", AUDIT("'warn_percent':[0,50]"), "audit.warn_percent[0]",
     "must be between 1 and 99"},
    {"audit_warn_hundred", AUDIT("'warn_percent':[50,100]"), "audit.warn_percent[1]",
     "must be between 1 and 99"},
    {"audit_warn_real", AUDIT("'warn_percent':[80.5]"), "audit.warn_percent[0]",
     "must be an integer"},
    {"audit_warn_string", AUDIT("'warn_percent':[80,'95']"), "audit.warn_percent[1]",
     "must be an integer"},
    {"audit_warn_decreasing", AUDIT("'warn_percent':[95,80]"), "audit.warn_percent[1]",
     "must be greater than the value before it (95)"},
    {"audit_warn_equal", AUDIT("'warn_percent':[50,70,70]"), "audit.warn_percent[2]",
     "must be greater than the value before it (70)"},
    /* a bad value is not compared with its neighbours */
    {"audit_warn_after_bad", AUDIT("'warn_percent':[50,150,60]"), "audit.warn_percent[1]",
     "must be between 1 and 99"},
    {"audit_forward_not_object", AUDIT("'forward':'collector.example'"), "audit.forward",
     "must be an object"},
    {"audit_forward_unknown", FWD(FWD_OK ",'tls':true"), "audit.forward.tls", "unknown key"},
    {"audit_forward_no_host", FWD("'ca_file':'ca.pem'"), "audit.forward.host", "is required"},
    {"audit_forward_no_ca", FWD("'host':'h'"), "audit.forward.ca_file", "is required"},
    {"audit_forward_host_empty", FWD("'host':'','ca_file':'ca.pem'"), "audit.forward.host",
     "must not be empty"},
    {"audit_forward_host_long",
     FWD("'host':'" A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 "aaaaaaaaaaaaaa',"
         "'ca_file':'ca.pem'"),
     "audit.forward.host", "must be at most 253 bytes"},
    {"audit_forward_host_number", FWD("'host':10,'ca_file':'ca.pem'"), "audit.forward.host",
     "must be a string"},
    {"audit_forward_host_space", FWD("'host':'collector example','ca_file':'ca.pem'"),
     "audit.forward.host",
     "\"collector example\" must not contain whitespace or control characters"},
    {"audit_forward_host_tab", FWD("'host':'collector\\t','ca_file':'ca.pem'"),
     "audit.forward.host", "\"collector\\x09\" must not contain whitespace or control characters"},
    {"audit_forward_host_del", FWD("'host':'a\\u007fb','ca_file':'ca.pem'"), "audit.forward.host",
     "\"a\\x7fb\" must not contain whitespace or control characters"},
    {"audit_forward_host_nbsp", FWD("'host':'a\\u00a0b','ca_file':'ca.pem'"), "audit.forward.host",
     "\"a\\xc2\\xa0b\" must not contain whitespace or control characters"},
    {"audit_forward_host_c1", FWD("'host':'a\\u0085b','ca_file':'ca.pem'"), "audit.forward.host",
     "\"a\\xc2\\x85b\" must not contain whitespace or control characters"},
    {"audit_forward_host_ideographic_space", FWD("'host':'a\\u3000b','ca_file':'ca.pem'"),
     "audit.forward.host",
     "\"a\\xe3\\x80\\x80b\" must not contain whitespace or control characters"},
    {"audit_forward_server_name_space", FWD(FWD_OK ",'server_name':'a b'"),
     "audit.forward.server_name", "\"a b\" must not contain whitespace or control characters"},
    {"audit_forward_server_name_empty", FWD(FWD_OK ",'server_name':''"),
     "audit.forward.server_name", "must not be empty"},
    {"audit_forward_ca_empty", FWD("'host':'h','ca_file':''"), "audit.forward.ca_file",
     "must not be empty"},
    {"audit_forward_port_zero", FWD(FWD_OK ",'port':0"), "audit.forward.port",
     "must be between 1 and 65535"},
    {"audit_forward_port_high", FWD(FWD_OK ",'port':65536"), "audit.forward.port",
     "must be between 1 and 65535"},
    {"audit_forward_port_string", FWD(FWD_OK ",'port':'6514'"), "audit.forward.port",
     "must be an integer"},
    {"audit_forward_facility_high", FWD(FWD_OK ",'facility':24"), "audit.forward.facility",
     "must be between 0 and 23"},
    {"audit_forward_facility_negative", FWD(FWD_OK ",'facility':-1"), "audit.forward.facility",
     "must be between 0 and 23"},
    {"audit_forward_cert_only", FWD(FWD_OK ",'client_cert':'c.pem'"), "audit.forward.client_key",
     "is required when \"client_cert\" is given"},
    {"audit_forward_key_only", FWD(FWD_OK ",'client_key':'c.key'"), "audit.forward.client_cert",
     "is required when \"client_key\" is given"},
    /* a cert of the wrong type is still given: only its own error */
    {"audit_forward_cert_not_string", FWD(FWD_OK ",'client_cert':1,'client_key':'c.key'"),
     "audit.forward.client_cert", "must be a string"},
    {"audit_forward_key_empty", FWD(FWD_OK ",'client_cert':'c.pem','client_key':''"),
     "audit.forward.client_key", "must not be empty"},
    /* write rules: validate */
    {"validate_read_only", TAGS("{'name':'a','type':'int','validate':{'allowed':[1]}}"),
     "tags[0].validate", "is only for writable tags"},
    {"validate_not_object", TAGS(SP("'validate':[]")), "tags[0].validate", "must be an object"},
    {"validate_unknown_key", TAGS(SP("'validate':{'allowd':[1]}")), "tags[0].validate.allowd",
     "unknown key"},
    {"max_change_on_bool",
     TAGS("{'name':'b','type':'bool'," WR ",'validate':{'max_change':{'amount':1,'seconds':1}}}"),
     "tags[0].validate.max_change", "is only for int and float tags"},
    {"max_change_amount_zero", TAGS(SP("'validate':{'max_change':{'amount':0,'seconds':60}}")),
     "tags[0].validate.max_change.amount", "must be greater than 0"},
    {"max_change_seconds_high", TAGS(SP("'validate':{'max_change':{'amount':1,'seconds':86401}}")),
     "tags[0].validate.max_change.seconds", "must be between 1 and 86400"},
    {"max_change_seconds_missing", TAGS(SP("'validate':{'max_change':{'amount':1}}")),
     "tags[0].validate.max_change.seconds", "is required"},
    {"max_change_unknown_key",
     TAGS(SP("'validate':{'max_change':{'amount':1,'seconds':1,'per':'s'}}")),
     "tags[0].validate.max_change.per", "unknown key"},
    {"max_change_memory_no_initial",
     TAGS("{'name':'m','type':'int'," WR ",'validate':{'max_change':{'amount':1,'seconds':1}}}"),
     "tags[0].validate.max_change",
     "needs \"initial\" on a memory tag (its first write is measured from the tag's value)"},
    {"allowed_empty", TAGS(SP("'validate':{'allowed':[]}")), "tags[0].validate.allowed",
     "must have 1 to 64 values"},
    {"allowed_not_array", TAGS(SP("'validate':{'allowed':1}")), "tags[0].validate.allowed",
     "must be an array"},
    {"allowed_type", TAGS(SP("'validate':{'allowed':[1,'2']}")), "tags[0].validate.allowed[1]",
     "must be a number (the tag is float)"},
    {"allowed_range", TAGS(SP("'validate':{'allowed':[11]}")), "tags[0].validate.allowed[0]",
     "must be between min (0) and max (10)"},
    {"allowed_duplicate", TAGS(SP("'validate':{'allowed':[1,2.5,2.5]}")),
     "tags[0].validate.allowed[2]", "duplicate value (first used at tags[0].validate.allowed[1])"},
    {"allowed_bool_type", TAGS("{'name':'b','type':'bool'," WR ",'validate':{'allowed':[1]}}"),
     "tags[0].validate.allowed[0]", "must be true or false (the tag is bool)"},
    {"allowed_int_real", TAGS("{'name':'i','type':'int'," WR ",'validate':{'allowed':[1.5]}}"),
     "tags[0].validate.allowed[0]", "must be an integer (the tag is int)"},
    {"allowed_string_duplicate",
     TAGS("{'name':'s','type':'string'," WR ",'validate':{'allowed':['a','b','a']}}"),
     "tags[0].validate.allowed[2]", "duplicate value (first used at tags[0].validate.allowed[0])"},
    {"when_empty", TAGS(WHEN("")), "tags[0].validate.when", "must have 1 to 8 conditions"},
    {"when_too_many",
     TAGS(RUN "," WHEN("{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true},"
                       "{'tag':'P1.running','op':'==','value':true}")),
     "tags[1].validate.when", "must have 1 to 8 conditions"},
    {"when_not_object", TAGS(RUN "," WHEN("'P1.running'")), "tags[1].validate.when[0]",
     "must be an object"},
    {"when_no_tag", TAGS(WHEN("{'tag':'P1.running','op':'==','value':true}")),
     "tags[0].validate.when[0].tag", "no tag named \"P1.running\""},
    {"when_tag_missing", TAGS(RUN "," WHEN("{'op':'==','value':true}")),
     "tags[1].validate.when[0].tag", "is required"},
    {"when_tag_not_name", TAGS(RUN "," WHEN("{'tag':'P1 running','op':'==','value':true}")),
     "tags[1].validate.when[0].tag",
     "\"P1 running\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"when_op_typo", TAGS(RUN "," WHEN("{'tag':'P1.running','op':'=','value':true}")),
     "tags[1].validate.when[0].op", "\"=\" is not one of ==, !=, <, <=, >, >="},
    {"when_op_missing", TAGS(RUN "," WHEN("{'tag':'P1.running','value':true}")),
     "tags[1].validate.when[0].op", "is required"},
    {"when_value_missing", TAGS(RUN "," WHEN("{'tag':'P1.running','op':'=='}")),
     "tags[1].validate.when[0].value", "is required"},
    {"when_unknown_key", TAGS(RUN "," WHEN("{'tag':'P1.running','op':'==','value':true,'x':1}")),
     "tags[1].validate.when[0].x", "unknown key"},
    {"when_self", TAGS(WHEN("{'tag':'SP','op':'>','value':1}")), "tags[0].validate.when[0].tag",
     "must name another tag, not the tag itself"},
    /* the named tag comes later in the array */
    {"when_value_bool", TAGS(WHEN("{'tag':'P1.running','op':'==','value':1}") "," RUN),
     "tags[0].validate.when[0].value", "must be true or false (tag P1.running is bool)"},
    {"when_order_on_bool", TAGS(WHEN("{'tag':'P1.running','op':'<','value':true}") "," RUN),
     "tags[0].validate.when[0].op",
     "\"<\" is only for int and float tags (tag P1.running is bool)"},
    {"when_value_int", TAGS(WHEN("{'tag':'N','op':'>=','value':1.5}") ",{'name':'N','type':'int'}"),
     "tags[0].validate.when[0].value", "must be an integer (tag N is int)"},
    {"when_value_float",
     TAGS(WHEN("{'tag':'T1.level','op':'<','value':'high'}") ",{'name':'T1.level','type':'float'}"),
     "tags[0].validate.when[0].value", "must be a number (tag T1.level is float)"},
    {"when_value_string",
     TAGS(WHEN("{'tag':'Mode','op':'==','value':null}") ","
                                                        "{'name':'Mode','type':'string'}"),
     "tags[0].validate.when[0].value", "must be a string (tag Mode is string)"},
    /* write rules: failsafe */
    {"failsafe_memory_tag", TAGS(SP("'failsafe':{'value':0,'on':['shutdown']}")),
     "tags[0].failsafe", "is only for writable device tags"},
    {"failsafe_read_only",
     TAGS("{'name':'L','type':'float','device':'plc1','address':'T1.level',"
          "'failsafe':{'value':0,'on':['shutdown']}}"),
     "tags[0].failsafe", "is only for writable device tags"},
    {"failsafe_not_object", TAGS(VALVE("'failsafe':true")), "tags[0].failsafe",
     "must be an object"},
    {"failsafe_unknown_key", TAGS(FS("'value':0,'on':['shutdown'],'delay_ms':5")),
     "tags[0].failsafe.delay_ms", "unknown key"},
    {"failsafe_value_missing", TAGS(FS("'on':['shutdown']")), "tags[0].failsafe.value",
     "is required"},
    {"failsafe_value_type", TAGS(FS("'value':'closed','on':['shutdown']")),
     "tags[0].failsafe.value", "must be a number (the tag is float)"},
    {"failsafe_value_range", TAGS(FS("'value':120,'on':['shutdown']")), "tags[0].failsafe.value",
     "must be between min (0) and max (100)"},
    {"failsafe_value_bool",
     TAGS("{'name':'P1.running','type':'bool','device':'plc1','address':"
          "'P1.running'," WR ",'failsafe':{'value':0,'on':['shutdown']}}"),
     "tags[0].failsafe.value", "must be true or false (the tag is bool)"},
    {"failsafe_value_not_allowed",
     TAGS(VALVE("'validate':{'allowed':[0,50,100]},'failsafe':{'value':20,'on':['shutdown']}")),
     "tags[0].failsafe.value", "must be one of validate.allowed"},
    {"failsafe_on_missing", TAGS(FS("'value':0")), "tags[0].failsafe.on", "is required"},
    {"failsafe_on_empty", TAGS(FS("'value':0,'on':[]")), "tags[0].failsafe.on",
     "must list at least one event"},
    {"failsafe_on_not_array", TAGS(FS("'value':0,'on':'shutdown'")), "tags[0].failsafe.on",
     "must be an array"},
    {"failsafe_on_unknown", TAGS(FS("'value':0,'on':['comms_loss']")), "tags[0].failsafe.on[0]",
     "\"comms_loss\" is not one of comm_loss, shutdown, integrity_violation, island_mode"},
    {"failsafe_on_twice", TAGS(FS("'value':0,'on':['shutdown','comm_loss','shutdown']")),
     "tags[0].failsafe.on[2]", "\"shutdown\" is listed twice"},
    {"failsafe_on_not_string", TAGS(FS("'value':0,'on':[1]")), "tags[0].failsafe.on[0]",
     "must be a string"},
    {"failsafe_comm_loss_ms_low", TAGS(FS("'value':0,'on':['comm_loss'],'comm_loss_ms':99")),
     "tags[0].failsafe.comm_loss_ms", "must be between 100 and 3600000"},
    {"failsafe_comm_loss_ms_high", TAGS(FS("'value':0,'on':['comm_loss'],'comm_loss_ms':3600001")),
     "tags[0].failsafe.comm_loss_ms", "must be between 100 and 3600000"},
    {"failsafe_comm_loss_ms_without", TAGS(FS("'value':0,'on':['shutdown'],'comm_loss_ms':500")),
     "tags[0].failsafe.comm_loss_ms", "is only allowed when \"on\" lists comm_loss"},
};

static int parse_errors(const char *text, struct bw_project_errors *errors)
{
    struct bw_project *p = (struct bw_project *)1;
    int rc = pt_parse(text, &p, errors);
    assert_null(p);
    return rc;
}

static void test_bad_case(void **state)
{
    const struct bad_case *c = *state;
    struct bw_project_errors errors = {0};
    int rc = parse_errors(c->json, &errors);
    if (rc != BW_EMALFORMED || errors.count != 1)
        pt_dump(&errors);
    assert_int_equal(rc, BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, c->path);
    assert_string_equal(errors.items[0].reason, c->reason);
    bw_project_errors_clear(&errors);
}

/* Syntax errors come from jansson with line and column, at path "". */
static void test_invalid_json(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    assert_int_equal(parse_errors("{'format':1,\n'name':}", &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "");
    assert_string_equal(errors.items[0].reason,
                        "invalid JSON at line 2, column 8: unexpected token near '}'");
    assert_int_equal(parse_errors("{'format':1,'format':1}", &errors), BW_EMALFORMED);
    assert_string_equal(
        errors.items[0].reason,
        "invalid JSON at line 1, column 20: duplicate object key near '\"format\"'");
    assert_int_equal(parse_errors("", &errors), BW_EMALFORMED);
    assert_string_equal(errors.items[0].path, "");
    bw_project_errors_clear(&errors);
}

/* Every problem in the file is reported by one parse, in file order. */
static void test_many_errors_at_once(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    const char *text =
        "{'format':2,'name':'my plant','colour':'red',"
        "'scan_classes':[{'name':'fast','period_ms':0}],"
        "'devices':[{'name':'plc1','driver':'sim','scan_class':'slow'}],"
        "'simulator':{'tanks':[{'name':'T1','area_m2':-1,'height_m':5,'level_m':2}]},"
        "'tags':[{'name':'a','type':'flaot'},{'type':'int'},"
        "{'name':'c','type':'float','device':'plc9','address':'T1.level'},"
        "{'name':'d','type':'float','device':'plc1','address':'T1.nope'}]}";
    assert_int_equal(parse_errors(text, &errors), BW_EMALFORMED);
    pt_expect(&errors, "colour", "unknown key");
    pt_expect(&errors, "format", "must be 1");
    pt_expect(&errors, "name",
              "\"my plant\" is not a valid name (letters, digits, _ and . only, starting with a "
              "letter)");
    pt_expect(&errors, "scan_classes[0].period_ms", "must be between 1 and 3600000");
    pt_expect(&errors, "devices[0].scan_class", "no scan class named \"slow\"");
    pt_expect(&errors, "simulator.tanks[0].area_m2", "must be greater than 0 and at most 1000000");
    pt_expect(&errors, "tags[0].type", "\"flaot\" is not one of bool, int, float, string");
    pt_expect(&errors, "tags[1].name", "is required");
    pt_expect(&errors, "tags[2].device", "no device named \"plc9\"");
    pt_expect(&errors, "tags[3].address",
              "\"T1\" is a tank, which has no variable \"nope\" (level, volume, level_pct, "
              "chlorine)");
    assert_int_equal(errors.count, 10);
    assert_int_equal(errors.omitted, 0);
    /* Sections in dependency order: the top level, then each section. */
    assert_true(pt_find(&errors, "tags[0].type",
                        "\"flaot\" is not one of bool, int, float, "
                        "string") < pt_find(&errors, "tags[1].name", "is required"));
    bw_project_errors_clear(&errors);
}

/* Every mistake in the audit section, reported by one parse, in the order
 * of its keys, then the rules across keys. */
static void test_audit_errors_at_once(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    const char *text = "{'format':1,'name':'p','tags':[{'name':'a','type':'int','unti':'m'}],"
                       "'audit':{'max_size_mb':0,'max_age_days':7,'warn_percent':[90,90,0],"
                       "'when_full':'refuse','on_failure':'stop','checkpoint_records':-5,"
                       "'checkpoint_seconds':60,'colour':'red',"
                       "'forward':{'host':'a b','port':0,'server_name':'','client_cert':'c.pem',"
                       "'facility':'local0','extra':1}}}";
    assert_int_equal(parse_errors(text, &errors), BW_EMALFORMED);
    static const char *const want[][2] = {
        {"tags[0].unti", "unknown key"},
        {"audit.colour", "unknown key"},
        {"audit.max_size_mb", "must be between 1 and 1048576"},
        {"audit.warn_percent[1]", "must be greater than the value before it (90)"},
        {"audit.warn_percent[2]", "must be between 1 and 99"},
        {"audit.on_failure", "\"stop\" is not one of continue, refuse"},
        {"audit.checkpoint_records", "must be between 1 and 1000000"},
        {"audit.max_age_days", "must be 0 unless when_full is \"archive\""},
        {"audit.forward.extra", "unknown key"},
        {"audit.forward.port", "must be between 1 and 65535"},
        {"audit.forward.ca_file", "is required"},
        {"audit.forward.server_name", "must not be empty"},
        {"audit.forward.facility", "must be an integer"},
        {"audit.forward.host", "\"a b\" must not contain whitespace or control characters"},
        {"audit.forward.client_key", "is required when \"client_cert\" is given"},
    };
    if (errors.count != BW_ARRAY_LEN(want))
        pt_dump(&errors);
    assert_int_equal(errors.count, BW_ARRAY_LEN(want));
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++) {
        assert_string_equal(errors.items[i].path, want[i][0]);
        assert_string_equal(errors.items[i].reason, want[i][1]);
    }
    bw_project_errors_clear(&errors);
}

/* Past BW_PROJECT_MAX_ERRORS, errors are counted, not kept. */
static void test_error_cap(void **state)
{
    (void)state;
    struct bw_buf buf;
    bw_buf_init(&buf, 1u << 20);
    assert_int_equal(bw_buf_append_str(&buf, "{'format':1,'name':'p','tags':["), BW_OK);
    for (int i = 0; i < 250; i++)
        assert_int_equal(bw_buf_printf(&buf, "%s{'name':'t%d','type':'x'}", i ? "," : "", i),
                         BW_OK);
    assert_int_equal(bw_buf_append_str(&buf, "]}"), BW_OK);
    struct bw_project_errors errors = {0};
    assert_int_equal(parse_errors(buf.data, &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, BW_PROJECT_MAX_ERRORS);
    assert_int_equal(errors.omitted, 50);
    assert_string_equal(errors.items[199].path, "tags[199].type");
    bw_project_errors_clear(&errors);
    bw_buf_clear(&buf);
}

/* Long texts, and long or hostile strings quoted in reasons. */
static void test_long_and_hostile_text(void **state)
{
    (void)state;
    struct bw_buf buf;
    bw_buf_init(&buf, 1u << 16);
    assert_int_equal(bw_buf_append_str(&buf, "{'format':1,'name':'p','description':'"), BW_OK);
    for (int i = 0; i < 1025; i++)
        assert_int_equal(bw_buf_append_str(&buf, "d"), BW_OK);
    assert_int_equal(bw_buf_append_str(&buf, "','tags':[{'name':'s','type':'string','initial':'"),
                     BW_OK);
    for (int i = 0; i < 256; i++)
        assert_int_equal(bw_buf_append_str(&buf, "x"), BW_OK);
    assert_int_equal(bw_buf_append_str(&buf, "'},{'name':'s2','type':'int','device':'"), BW_OK);
    for (int i = 0; i < 60; i++)
        assert_int_equal(bw_buf_append_str(&buf, "\\u001b"), BW_OK);
    assert_int_equal(bw_buf_append_str(&buf, "','address':'a.b'}]}"), BW_OK);

    struct bw_project_errors errors = {0};
    assert_int_equal(parse_errors(buf.data, &errors), BW_EMALFORMED);
    pt_expect(&errors, "description", "must be at most 1024 bytes");
    pt_expect(&errors, "tags[0].initial", "must be at most 255 bytes");
    /* 48 escaped bytes, then a mark that the text was cut. */
    struct bw_buf want;
    bw_buf_init(&want, 400);
    assert_int_equal(bw_buf_append_str(&want, "no device named \""), BW_OK);
    for (int i = 0; i < 48; i++)
        assert_int_equal(bw_buf_append_str(&want, "\\x1b"), BW_OK);
    assert_int_equal(bw_buf_append_str(&want, "...\""), BW_OK);
    pt_expect(&errors, "tags[1].device", want.data);
    bw_buf_clear(&want);
    assert_int_equal(errors.count, 3);
    bw_project_errors_clear(&errors);
    bw_buf_clear(&buf);
}

int main(void)
{
    static struct CMUnitTest tests[BW_ARRAY_LEN(cases) + 6];
    size_t n = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++, n++) {
        tests[n] = (struct CMUnitTest){
            .name = cases[i].name, .test_func = test_bad_case, .initial_state = (void *)&cases[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_json);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_many_errors_at_once);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_audit_errors_at_once);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_cap);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_long_and_hostile_text);
    return _cmocka_run_group_tests("project_errors", tests, n, NULL, NULL);
}
