#include "rpc_bridge_backend.h"

#include "rpc_vm_backend.h"
#include "rpc_wait.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace provium::runner {
namespace {

template <typename Results>
BridgeMembership membership_from(Results results) {
  BridgeMembership out;
  for (auto nic : results.getNics()) {
    NicAddressing addressing{.vm = nic.getVm().cStr(), .mac = {}, .address = nic.getAddress().cStr(),
                             .slot = nic.getSlot()};
    auto mac = nic.getMac();
    std::copy_n(mac.begin(), std::min<std::size_t>(mac.size(), 6), addressing.mac.begin());
    out.nics.push_back(std::move(addressing));
  }
  for (auto hosts : results.getHosts()) {
    VmHostEntries entries{.vm = hosts.getVm().cStr(), .entries = {}};
    for (auto entry : hosts.getEntries()) entries.entries.emplace_back(entry.getAddress().cStr(), entry.getName().cStr());
    out.hosts.push_back(std::move(entries));
  }
  return out;
}

void impairments_to_wire(const LinkImpairmentsSpec& in, wire::runner::LinkImpairments::Builder out) {
  if (in.latency_ms) {
    out.setHasLatency(true);
    out.setLatencyUs(static_cast<std::uint64_t>(std::llround(std::max(0.0, *in.latency_ms) * 1000.0)));
  }
  if (in.loss_pct) {
    out.setHasLoss(true);
    out.setLoss(*in.loss_pct / 100.0);
  }
  if (in.bandwidth_bps) {
    out.setHasBandwidth(true);
    out.setBandwidthBps(*in.bandwidth_bps);
  }
}

}  // namespace

BridgeMembership RpcBridgeBackend::attach(const std::vector<VmBackend*>& vms) {
  auto request = bridge_.attachRequest();
  auto list = request.initVms(static_cast<unsigned>(vms.size()));
  for (unsigned i = 0; i < list.size(); ++i) {
    auto* rpc = dynamic_cast<RpcVmBackend*>(vms[i]);
    if (rpc == nullptr) throw std::runtime_error("this VM is not held by the supervisor");
    list.set(i, rpc->client());
  }
  return membership_from(wait_rpc(request.send(), wait_scope_));
}

BridgeMembership RpcBridgeBackend::detach(const std::vector<std::string>& vms) {
  auto request = bridge_.detachRequest();
  auto list = request.initVms(static_cast<unsigned>(vms.size()));
  for (unsigned i = 0; i < list.size(); ++i) list.set(i, vms[i]);
  return membership_from(wait_rpc(request.send(), wait_scope_));
}

void RpcBridgeBackend::set_policy(const BridgePolicySpec& policy) {
  auto request = bridge_.setPolicyRequest();
  auto out = request.initPolicy();
  auto blocked = out.initBlocked(static_cast<unsigned>(policy.blocked.size()));
  unsigned i = 0;
  for (const auto& [from, to] : policy.blocked) {
    blocked[i].setFrom(from);
    blocked[i++].setTo(to);
  }
  auto isolated = out.initIsolated(static_cast<unsigned>(policy.isolated.size()));
  i = 0;
  for (const auto& vm : policy.isolated) isolated.set(i++, vm);
  impairments_to_wire(policy.whole, out.initWhole());
  auto pairs = out.initPairs(static_cast<unsigned>(policy.pairs.size()));
  i = 0;
  for (const auto& [pair, impairments] : policy.pairs) {
    pairs[i].setFrom(pair.first);
    pairs[i].setTo(pair.second);
    impairments_to_wire(impairments, pairs[i++].initImpairments());
  }
  wait_rpc(request.send().ignoreResult(), wait_scope_);
}

NicCountersValue RpcBridgeBackend::counters(const std::string& vm) {
  auto request = bridge_.countersRequest();
  request.setVm(vm);
  auto response = wait_rpc(request.send(), wait_scope_);
  auto c = response.getCounters();
  return NicCountersValue{.rx_bytes = c.getRxBytes(), .tx_bytes = c.getTxBytes(), .rx_packets = c.getRxPackets(),
                          .tx_packets = c.getTxPackets(), .errors = c.getErrors()};
}

void RpcBridgeBackend::set_link(const std::string& vm, bool up) {
  auto request = bridge_.setLinkRequest();
  request.setVm(vm);
  request.setUp(up);
  wait_rpc(request.send().ignoreResult(), wait_scope_);
}

kj::AutoCloseFd RpcBridgeBackend::capture(const std::string& vm) {
  auto request = bridge_.captureRequest();
  request.setVm(vm);
  auto response = wait_rpc(request.send(), wait_scope_);
  kj::Maybe<int> fd = wait_rpc(response.getChannel().getFd(), wait_scope_, "capture channel");
  KJ_IF_MAYBE(carried, fd) {
    const int copy = ::fcntl(*carried, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw std::runtime_error(std::string("cannot keep the capture fd: ") + std::strerror(errno));
    return kj::AutoCloseFd(copy);
  }
  throw std::runtime_error("the supervisor's capture channel carries no file descriptor");
}

std::pair<std::string, std::string> RpcBridgeBackend::enable_uplink() {
  auto response = wait_rpc(bridge_.enableUplinkRequest().send(), wait_scope_);
  return {response.getGateway().cStr(), response.getHostAddress().cStr()};
}

void RpcBridgeBackend::disable_uplink() { wait_rpc(bridge_.disableUplinkRequest().send().ignoreResult(), wait_scope_); }

}  // namespace provium::runner
