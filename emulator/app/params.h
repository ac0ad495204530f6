/* Template parameters the way SAM CLI takes them: --parameter-overrides
 * text ("Key=Value Key2='a b'" or "ParameterKey=K,ParameterValue=V ...")
 * and the parameter_overrides of samconfig.toml or samconfig.yaml (a
 * string or a list of strings). Values land in a cJSON object (name -> string)
 * the caller owns; a later value for a name replaces an earlier one. */
#ifndef LK_PARAMS_H
#define LK_PARAMS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_PARAMS_MAX 4096 /* names a text may set */

/* 0, or LK_EINVAL with "what" written to err. */
int lk_params_parse(const char *text, size_t len, cJSON *into, char *err,
                    size_t errlen);

/* parameter_overrides from the samconfig.toml text, from the sections of
 * environment env ("default" when NULL), weakest first:
 * [env.global.parameters], [env.deploy.parameters], then
 * [env.<command>.parameters] when command (e.g. "local_invoke") is not
 * NULL. 0, or LK_EINVAL with "line N: what" in err. */
int lk_samconfig_parse(const char *text, size_t len, const char *env,
                       const char *command, cJSON *into, char *err,
                       size_t errlen);

/* The same from a samconfig.yaml text (SAM's YAML form: env: {global:
 * {parameters: {parameter_overrides: ...}}, deploy: ..., command: ...}),
 * a string or a list of strings. */
int lk_samconfig_yaml_parse(const char *text, size_t len, const char *env,
                            const char *command, cJSON *into, char *err,
                            size_t errlen);

#endif
