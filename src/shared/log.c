/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "spawn-cmd.h"

static const char *const action_names[_VHC_LOG_ACTION_MAX] = {
        [VHC_LOG_CREATED] = "created",       [VHC_LOG_UPDATED] = "updated", [VHC_LOG_REMOVED] = "removed",
        [VHC_LOG_REGENERATE] = "regenerate", [VHC_LOG_SKIP] = "skip",       [VHC_LOG_OUTCOME] = "outcome",
};

const char *vhc_log_action_to_string(enum vhc_log_action a) {
        return (unsigned)a < _VHC_LOG_ACTION_MAX ? action_names[a] : NULL;
}

/* A field value on one line: the text copy must stay one record per line. */
static void put_value(FILE *f, const char *key, const char *value) {
        fprintf(f, " %s=", key);
        for (const char *c = value; *c; c++)
                if (*c == '\n')
                        fputs("\\n", f);
                else if (*c == '\\')
                        fputs("\\\\", f);
                else
                        fputc(*c, f);
}

/* One write() with O_APPEND, so records of concurrent writers do not mix. */
static void append_text(int priority, const char *action, const char *file, const char *command,
                        const int *status, const char *detail, const char *const *extra) {
        const char *path = getenv("VHC_LOG_FILE");
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        size_t size = 0;
        FILE *f;
        bool bad;

        if (!path || !path[0])
                return;
        f = open_memstream(&buf, &size);
        if (!f)
                return;
        fputs("virt-host-config:", f);
        put_value(f, "VHC_ACTION", action);
        if (file)
                put_value(f, "VHC_FILE", file);
        if (command)
                put_value(f, "VHC_COMMAND", command);
        if (status)
                fprintf(f, " VHC_EXIT_STATUS=%d", *status);
        if (detail)
                put_value(f, "VHC_DETAIL", detail);
        for (size_t i = 0; extra && extra[i]; i += 2)
                if (extra[i + 1])
                        put_value(f, extra[i], extra[i + 1]);
        fprintf(f, " PRIORITY=%d\n", priority);
        bad = ferror(f);
        if (fclose(f) != 0 || bad)
                return;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return;
        (void)!write(fd, buf, size);
}

void vhc_log_change(enum vhc_log_action action, const char *path, const char *detail) {
        const char *a = vhc_log_action_to_string(action);
        int saved_errno = errno, priority = action == VHC_LOG_SKIP ? LOG_NOTICE : LOG_INFO;

        if (!a)
                return;
        (void)sd_journal_send("MESSAGE_ID=" VHC_LOG_MESSAGE_ID, "MESSAGE=virt-host-config: %s%s%s%s%s", a,
                              path ? " " : "", strempty(path), detail ? ": " : "", strempty(detail),
                              "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=virt-host-config", "VHC_ACTION=%s",
                              a, "VHC_FILE=%s", strempty(path), "VHC_DETAIL=%s", strempty(detail), NULL);
        append_text(priority, a, path, NULL, NULL, detail, NULL);
        errno = saved_errno;
}

void vhc_log_command(char *const argv[], int status) {
        const char *a = vhc_log_action_to_string(VHC_LOG_REGENERATE);
        _cleanup_free_ char *cmd = vhc_argv_to_string(argv);
        int saved_errno = errno;
        char result[128];

        if (!cmd)
                return;
        if (status < 0)
                snprintf(result, sizeof(result), "could not run: %s", strerror(-status));
        else
                snprintf(result, sizeof(result), "exit status %d", status);
        (void)sd_journal_send("MESSAGE_ID=" VHC_LOG_MESSAGE_ID, "MESSAGE=virt-host-config: ran %s: %s", cmd,
                              result, "PRIORITY=%d", status == 0 ? LOG_INFO : LOG_ERR,
                              "SYSLOG_IDENTIFIER=virt-host-config", "VHC_ACTION=%s", a, "VHC_COMMAND=%s",
                              cmd, "VHC_EXIT_STATUS=%d", status, NULL);
        append_text(status == 0 ? LOG_INFO : LOG_ERR, a, NULL, cmd, &status, status < 0 ? result : NULL,
                    NULL);
        errno = saved_errno;
}

void vhc_log_outcome(const char *run, bool failed, const char *error, const char *next_step) {
        const char *a = vhc_log_action_to_string(VHC_LOG_OUTCOME);
        int saved_errno = errno, priority = failed ? LOG_ERR : LOG_INFO;

        if (failed)
                (void)sd_journal_send("MESSAGE_ID=" VHC_LOG_MESSAGE_ID,
                                      "MESSAGE=virt-host-config: %s failed: %s; then run: %s", run,
                                      strempty(error), strempty(next_step), "PRIORITY=%d", priority,
                                      "SYSLOG_IDENTIFIER=virt-host-config", "VHC_ACTION=%s", a, "VHC_RUN=%s",
                                      run, "VHC_RESULT=failed", "VHC_ERROR=%s", strempty(error),
                                      "VHC_NEXT_STEP=%s", strempty(next_step), NULL);
        else
                (void)sd_journal_send("MESSAGE_ID=" VHC_LOG_MESSAGE_ID, "MESSAGE=virt-host-config: %s ok",
                                      run, "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=virt-host-config",
                                      "VHC_ACTION=%s", a, "VHC_RUN=%s", run, "VHC_RESULT=ok", NULL);
        append_text(priority, a, NULL, NULL, NULL, NULL,
                    (const char *const[]){"VHC_RUN", run, "VHC_RESULT", failed ? "failed" : "ok",
                                          "VHC_ERROR", failed ? strempty(error) : NULL, "VHC_NEXT_STEP",
                                          failed ? strempty(next_step) : NULL, NULL});
        errno = saved_errno;
}
