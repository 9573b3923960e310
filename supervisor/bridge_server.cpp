#include "bridge_server.h"

#include <cmath>

#include <fmt/format.h>

#include "kj_error.h"
#include "vm_server.h"

namespace provium {
namespace {

constexpr std::size_t kMaxNameBytes = 256;
// More entries than a bridge could have pairs of members is not a policy.
constexpr std::size_t kMaxPolicyEntries = 16 * 16;

std::string text_of(capnp::Text::Reader text) {
  return std::string(text.begin(), std::min<std::size_t>(text.size(), kMaxNameBytes));
}

net::Impairments read_impairments(wire::runner::LinkImpairments::Reader in) {
  net::Impairments out;
  constexpr std::uint64_t kMaxMicros = 3600ULL * 1000 * 1000;  // range-checked by TestNetwork; keep the cast sane
  if (in.getHasLatency()) out.latency = std::chrono::microseconds(std::min(in.getLatencyUs(), kMaxMicros));
  if (in.getHasJitter()) out.jitter = std::chrono::microseconds(std::min(in.getJitterUs(), kMaxMicros));
  if (in.getHasLoss()) out.loss = in.getLoss();
  if (in.getHasBandwidth()) out.bandwidth_bps = in.getBandwidthBps();
  return out;
}

void write_membership(const MembershipChange& change, capnp::List<wire::runner::NicAddressing>::Builder nics,
                      capnp::List<wire::runner::VmHosts>::Builder hosts) {
  for (unsigned i = 0; i < nics.size(); ++i) {
    const NicAddressing& nic = change.nics[i];
    nics[i].setVm(nic.vm);
    nics[i].setMac(capnp::Data::Reader(nic.mac.data(), nic.mac.size()));
    nics[i].setAddress(nic.address);
    nics[i].setSlot(static_cast<std::uint32_t>(nic.slot));
  }
  for (unsigned i = 0; i < hosts.size(); ++i) {
    hosts[i].setVm(change.hosts[i].vm);
    auto entries = hosts[i].initEntries(static_cast<unsigned>(change.hosts[i].entries.size()));
    for (unsigned j = 0; j < entries.size(); ++j) {
      entries[j].setAddress(change.hosts[i].entries[j].address);
      entries[j].setName(change.hosts[i].entries[j].name);
    }
  }
}

std::string dotted(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

}  // namespace

net::BridgePolicy read_bridge_policy(wire::runner::BridgePolicy::Reader in) {
  if (in.getBlocked().size() > kMaxPolicyEntries || in.getIsolated().size() > kMaxPolicyEntries ||
      in.getPairs().size() > kMaxPolicyEntries) {
    throw NetworkRequestError(fmt::format("a policy has at most {} entries of each kind", kMaxPolicyEntries));
  }
  net::BridgePolicy out;
  for (auto pair : in.getBlocked()) out.blocked.emplace(text_of(pair.getFrom()), text_of(pair.getTo()));
  for (auto vm : in.getIsolated()) out.isolated.insert(text_of(vm));
  out.whole = read_impairments(in.getWhole());
  for (auto pair : in.getPairs()) {
    out.pairs[{text_of(pair.getFrom()), text_of(pair.getTo())}] = read_impairments(pair.getImpairments());
  }
  return out;
}

void BridgeServer::fail(const char* method, const std::string& what) const {
  throw_kj_error(fmt::format("bridge `{}`: {}: {}", name_, method, what));
}

kj::Promise<void> BridgeServer::attach(AttachContext context) {
  auto vms = context.getParams().getVms();
  if (vms.size() > VmFleet::kMaxLiveVms) fail("attach", fmt::format("at most {} VMs at once", VmFleet::kMaxLiveVms));
  kj::Vector<kj::Promise<kj::Maybe<wire::runner::Vm::Server&>>> lookups;
  for (auto vm : vms) lookups.add(vms_.getLocalServer(vm));
  return kj::joinPromises(lookups.releaseAsArray())
      .then([this, context](kj::Array<kj::Maybe<wire::runner::Vm::Server&>> servers) mutable {
        std::vector<VmSlot*> slots;
        for (auto& server : servers) {
          KJ_IF_MAYBE(found, server) {
            slots.push_back(&static_cast<VmServer&>(*found).slot());
          } else {
            fail("attach", "a VM capability that is not one of this file's VMs");
          }
        }
        try {
          const MembershipChange change = network_.attach(name_, slots);
          auto results = context.getResults();
          write_membership(change, results.initNics(static_cast<unsigned>(change.nics.size())),
                           results.initHosts(static_cast<unsigned>(change.hosts.size())));
        } catch (const std::exception& error) {
          fail("attach", error.what());
        }
      });
}

kj::Promise<void> BridgeServer::detach(DetachContext context) {
  std::vector<std::string> names;
  for (auto vm : context.getParams().getVms()) names.push_back(text_of(vm));
  try {
    const MembershipChange change = network_.detach(name_, names);
    auto results = context.getResults();
    write_membership(change, results.initNics(static_cast<unsigned>(change.nics.size())),
                     results.initHosts(static_cast<unsigned>(change.hosts.size())));
  } catch (const std::exception& error) {
    fail("detach", error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> BridgeServer::setPolicy(SetPolicyContext context) {
  try {
    network_.set_policy(name_, read_bridge_policy(context.getParams().getPolicy()));
  } catch (const std::exception& error) {
    fail("policy", error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> BridgeServer::counters(CountersContext context) {
  try {
    const net::NicCounters counters = network_.counters(name_, text_of(context.getParams().getVm()));
    auto out = context.getResults().initCounters();
    out.setRxBytes(counters.rx_bytes);
    out.setTxBytes(counters.tx_bytes);
    out.setRxPackets(counters.rx_packets);
    out.setTxPackets(counters.tx_packets);
    out.setErrors(counters.errors);
  } catch (const std::exception& error) {
    fail("counters", error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> BridgeServer::setLink(SetLinkContext context) {
  const auto params = context.getParams();
  std::pair<VmSlot*, std::size_t> member;
  try {
    member = network_.member(name_, text_of(params.getVm()));
  } catch (const std::exception& error) {
    fail("set_link", error.what());
  }
  RunningVm* vm = nullptr;
  KJ_IF_MAYBE(running, member.first->vm) { vm = running->get(); }
  if (!vm) fail("set_link", fmt::format("VM `{}` is not running", member.first->name));
  return vm->set_link(member.second, params.getUp());
}

kj::Promise<void> BridgeServer::capture(CaptureContext context) {
  const std::string vm = text_of(context.getParams().getVm());
  try {
    OwnedFd fd = network_.capture(name_, vm.empty() ? std::nullopt : std::optional<std::string>(vm));
    context.getResults().setChannel(kj::heap<CaptureChannelServer>(kj::AutoCloseFd(fd.release())));
  } catch (const std::exception& error) {
    fail("capture", error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> BridgeServer::enableUplink(EnableUplinkContext context) {
  try {
    const net::UplinkInfo uplink = network_.enable_uplink(name_);
    context.getResults().setGateway(dotted(uplink.gateway));
    context.getResults().setHostAddress(dotted(uplink.host_address));
  } catch (const std::exception& error) {
    fail("enable_uplink", error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> BridgeServer::disableUplink(DisableUplinkContext) {
  try {
    network_.disable_uplink(name_);
  } catch (const std::exception& error) {
    fail("disable_uplink", error.what());
  }
  return kj::READY_NOW;
}

}  // namespace provium
