/*
 * test_fork.c -- the fork contract (header section "Processes"): a process that uses the library,
 * with a plugin loaded and threads recording, forks; each child uses the library from two threads
 * at once (sessions, record calls, events, snapshots, the Prometheus text, a plugin of its own) and
 * exits; the parent goes on. Both within a time limit: a hang is a failure, not a stuck suite.
 *
 * Before the fork handlers existed, some such children hung spinning: the Swift runtime's lock cached
 * the thread id of the parent's forking thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define JSONL "build/plugins/jsonl_sink.so"
#define CHILDREN 24
#define CHILD_SECONDS 20

static char dir[] = "/tmp/vt-fork-XXXXXX";
static atomic_int stop_recording;

static vt_plugin_id load_jsonl(const char *name) {
    char config[512];
    snprintf(config, sizeof config, "{\"path\":\"%s/%s.jsonl\"}", dir, name);
    vt_plugin_id id = 0;
    return vt_load_plugin(JSONL, config, &id) == VT_OK ? id : 0;
}

/* One thread's use of every part of the library; returns the number of calls that failed. */
static int use_everything(void) {
    int failed = 0;
    static __thread char text[1 << 18];
    size_t len;
    for (int round = 0; round < 20; round++) {
        vt_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        vt_session s = 0;
        failed += vt_create_session(&cfg, &s) != VT_OK;
        failed += vt_record_vad_start(s, 1000) != VT_OK;
        failed += vt_record_vad_end(s, 2000) != VT_OK;
        failed += vt_record_audio_out(s, 640, 3000) != VT_OK;
        failed += vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4000) != VT_OK;
        failed += vt_emit(s, "fork.test", "{\"round\":1}", NULL, NULL, 0) != VT_OK;
        failed += vt_snapshot_json(s, text, sizeof text, &len) != VT_OK;
        failed += vt_turn_history_json(s, 8, text, sizeof text, &len) != VT_OK;
        failed += vt_observe("fork_test_seconds", "h", NULL, 0, 0.25) != VT_OK;
        failed += vt_prom_text(text, sizeof text, &len) != VT_OK;
        failed += vt_end_session(s) != VT_OK;
    }
    return failed;
}

static void *child_thread(void *arg) {
    (void)arg;
    return (void *)(intptr_t)use_everything();
}

/* A child: a second thread and this one use the library at the same moment; this one also loads,
 * uses and unloads a plugin of its own. Exit status: the number of failed calls (0 = all good). */
static void child_main(int n) {
    alarm(CHILD_SECONDS);   /* a hang ends the child (SIGALRM), which the parent counts */
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0) _exit(100);
    char name[32];
    snprintf(name, sizeof name, "child-%d", n);
    vt_plugin_id id = load_jsonl(name);
    int failed = (id == 0) + use_everything();
    failed += vt_flush_events(5000) != VT_OK;
    failed += vt_unload_plugin(id) != VT_OK;
    void *other;
    pthread_join(t, &other);
    failed += (int)(intptr_t)other;
    _exit(failed > 99 ? 99 : failed);
}

static void *recorder(void *arg) {
    vt_session s = *(vt_session *)arg;
    while (!atomic_load(&stop_recording)) {
        vt_record_audio_out(s, 320, 0);
        vt_emit(s, "parent.tick", "{}", NULL, NULL, 0);
    }
    return NULL;
}

/* The child's exit status, or -1 if it did not exit within the limit (then it is killed). */
static int wait_child(pid_t pid) {
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (int i = 0; i < (CHILD_SECONDS + 10) * 100; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* Fork CHILDREN children one after the other; counts those that hung and the calls that failed. */
static void fork_children(int *hung, int *failed_calls) {
    for (int n = 0; n < CHILDREN; n++) {
        pid_t pid = fork();
        if (pid == 0) child_main(n);
        CHECK(pid > 0);
        int status = wait_child(pid);
        if (status < 0) (*hung)++;
        else *failed_calls += status;
    }
}

/* A parent that has made only one call: its children make their first calls of almost everything
 * (each a first use of some Swift runtime lock) from two threads at once. */
TEST(children_of_a_parent_that_barely_used_the_library_work) {
    CHECK(mkdtemp(dir) != NULL);
    CHECK_STATUS(vt_emit(0, "parent.first", NULL, NULL, NULL, 0), VT_OK);
    int hung = 0, failed_calls = 0;
    fork_children(&hung, &failed_calls);
    CHECK_EQ_U64(hung, 0);
    CHECK_EQ_U64(failed_calls, 0);
}

TEST(children_forked_while_threads_record_work_and_the_parent_goes_on) {
    vt_plugin_id parent_plugin = load_jsonl("parent");
    CHECK(parent_plugin != 0);
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, recorder, &s) == 0);

    int hung = 0, failed_calls = 0;
    fork_children(&hung, &failed_calls);
    CHECK_EQ_U64(hung, 0);
    CHECK_EQ_U64(failed_calls, 0);

    atomic_store(&stop_recording, 1);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    /* The parent goes on: its plugin still delivers, its session still counts. */
    CHECK_EQ_U64(use_everything(), 0);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_STATUS(vt_plugin_stats(parent_plugin, &st), VT_OK);
    CHECK(st.delivered > 0);
    CHECK_EQ_U64(st.disabled, 0);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_unload_plugin(parent_plugin), VT_OK);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* A plugin whose init forks: the forking thread holds the registry lock (inside vt_load_plugin)
 * when the fork handlers run; they must not wait for it. */
TEST(a_plugin_that_forks_in_init_loads) {
    alarm(CHILD_SECONDS);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin("build/tests/plugins/forks_in_init.so", NULL, &id), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    alarm(0);
}

int main(void) {
    RUN(children_of_a_parent_that_barely_used_the_library_work);
    RUN(children_forked_while_threads_record_work_and_the_parent_goes_on);
    RUN(a_plugin_that_forks_in_init_loads);
    return check_summary();
}
