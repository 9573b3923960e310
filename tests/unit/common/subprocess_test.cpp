#include "subprocess.h"

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

using provium::SpawnSpec;
using provium::Subprocess;

TEST(Subprocess, ReportsExitCodeAndSignal) {
  auto ok = Subprocess::spawn({.argv = {"/bin/sh", "-c", "exit 3"}});
  auto status = ok.wait();
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(status.describe(), "exit code 3");

  auto killed = Subprocess::spawn({.argv = {"/bin/sh", "-c", "kill -SEGV $$"}});
  status = killed.wait();
  EXPECT_FALSE(status.exited);
  EXPECT_EQ(status.signal, SIGSEGV);
  EXPECT_EQ(status.describe(), "killed by SIGSEGV");
}

TEST(Subprocess, ExecFailureIsAnErrorNotAnExitCode) {
  try {
    Subprocess::spawn({.argv = {"/nonexistent/program"}});
    FAIL() << "spawned a missing program";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/program"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("No such file"), std::string::npos);
  }
}

TEST(Subprocess, MapsFdsAndGivesAnEmptyEnvironment) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  auto child = Subprocess::spawn({.argv = {"/bin/sh", "-c", "echo \"[$HOME]\" >&5"}, .fds = {{5, out[1]}}});
  close(out[1]);
  EXPECT_TRUE(child.wait().exited);
  char buffer[64] = {};
  ASSERT_GT(read(out[0], buffer, sizeof buffer - 1), 0);
  close(out[0]);
  EXPECT_STREQ(buffer, "[]\n");
}

TEST(Subprocess, DestructorKillsTheWholeGroup) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t grandchild = 0;
  {
    auto child = Subprocess::spawn({.argv = {"/bin/sh", "-c", "sleep 60 & echo $! >&5; wait"}, .fds = {{5, out[1]}}});
    close(out[1]);
    char buffer[32] = {};
    ASSERT_GT(read(out[0], buffer, sizeof buffer - 1), 0);
    grandchild = atoi(buffer);
    ASSERT_GT(grandchild, 0);
  }
  close(out[0]);
  // The grandchild was in the child's group: it is gone (or a zombie about to be reaped by init).
  for (int i = 0; i < 6000 && kill(grandchild, 0) == 0; ++i) usleep(10000);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", grandchild);
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    char stat[256] = {};
    ASSERT_GT(read(fd, stat, sizeof stat - 1), 0);
    close(fd);
    EXPECT_NE(std::string(stat).find(") Z"), std::string::npos) << stat;
  }
}

TEST(Subprocess, PidfdBecomesReadableOnExit) {
  auto child = Subprocess::spawn({.argv = {"/bin/true"}});
  pollfd pfd{child.pidfd(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1);
  auto status = child.poll();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, 0);
}
