// udev_helper.cpp: alias checks, backend device names, and handle_backend_request (the udev
// helper's and the daemon's backend handling) on the fake index: the role, deny rules
// through names/aliases/legacy names, escaping, deadlines.
#include "udev_helper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "fake_index.h"
#include "log.h"

namespace xa {
namespace {

TEST(CheckAlias, OnlyXenAliases) {
    EXPECT_EQ(check_alias("xen-backend:vif"), std::nullopt);
    EXPECT_EQ(check_alias("xen-backend:vbd"), std::nullopt);
    EXPECT_EQ(check_alias("xen:vbd"), std::nullopt);
    EXPECT_NE(check_alias("pci:v00008086d*"), std::nullopt);
    EXPECT_NE(check_alias("xen-backend:"), std::nullopt);
    EXPECT_NE(check_alias("xen-backend:vif;reboot"), std::nullopt);
    EXPECT_NE(check_alias("xen-backend:vif $(id)"), std::nullopt);
    EXPECT_NE(check_alias("xen-backend:VIF"), std::nullopt);
    EXPECT_NE(check_alias("xen-backend:" + std::string(33, 'a')), std::nullopt);
    EXPECT_NE(check_alias("fs-xenfs"), std::nullopt);
}

TEST(BackendDevpath, DomainAndDevice) {
    const auto d = parse_backend_devpath("/devices/xen-backend/vif-3-0");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, "vif");
    EXPECT_EQ(d->domid, 3u);
    EXPECT_EQ(d->devid, 0u);
    const auto v = parse_backend_devpath("/devices/xen-backend/vbd-12-51712");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->domid, 12u);
    EXPECT_EQ(v->devid, 51712u);
    const auto q = parse_backend_devpath("/devices/xen-backend/qdisk-1-768");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->type, "qdisk");
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/vif"));
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/vif-x-0"));
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/-1-0"));
    EXPECT_FALSE(parse_backend_devpath(""));
}

struct Counter {
    std::atomic<int> inserts{0};
    std::chrono::milliseconds hold{0};
};

class CountingInserter final : public Inserter {
  public:
    explicit CountingInserter(std::shared_ptr<Counter> c) : c_(std::move(c)) {}
    InsertOutcome insert(const std::string&) override {
        ++c_->inserts;
        std::this_thread::sleep_for(c_->hold);
        return {};
    }

  private:
    std::shared_ptr<Counter> c_;  // shared: a worker past the deadline outlives the test
};

class BackendRequestTest : public ::testing::Test {
  protected:
    BackendRequestTest() {
        index.states["xen_netback"] = ModuleState::loadable;
        index.states["xen_blkback"] = ModuleState::loadable;
        index.aliases["xen-backend:vif"] = "xen_netback";
        index.aliases["xen-backend:vbd"] = "xen_blkback";
        factory = [c = counter] { return std::make_unique<CountingInserter>(c); };
    }
    BackendOutcome ask(const std::string& alias, const std::string& devpath, Role role,
                       const std::string& policy_text = "") {
        Policy p;
        parse_policy(policy_text, "/etc/xen-autoload/local.conf", p);
        BackendOptions o;
        o.role = role;
        return handle_backend_request({alias, devpath}, p, index, factory, o);
    }
    test::FakeIndex index;
    std::shared_ptr<Counter> counter = std::make_shared<Counter>();
    InserterFactory factory;
};

TEST_F(BackendRequestTest, LoadsForDom0AndDriverDomain) {
    for (const Role r : {Role::dom0, Role::driver_domain}) {
        const auto out = ask("xen-backend:vif", "/devices/xen-backend/vif-3-0", r);
        EXPECT_EQ(out.kind, BackendOutcome::Kind::loaded) << out.message;
        EXPECT_TRUE(out.ok());
        EXPECT_FALSE(out.timed_out);
    }
    EXPECT_EQ(counter->inserts, 2);
}

TEST_F(BackendRequestTest, RoleThatLoadsNoBackendsLoadsNothingAndSaysWhy) {
    auto out = ask("xen-backend:vif", "/devices/xen-backend/vif-3-0", Role::domU);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::not_for_role);
    EXPECT_TRUE(out.ok());
    EXPECT_EQ(out.message,
              "domain 3's vif device vif-3-0 asks for xen-backend:vif: not loaded: role domU "
              "loads no backends (driver-domain no)");
    out = ask("xen-backend:vbd", "", Role::none);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::not_for_role);
    EXPECT_EQ(out.message,
              "a backend device asks for xen-backend:vbd: not loaded: role none loads no backends");
    EXPECT_EQ(counter->inserts, 0);
}

TEST_F(BackendRequestTest, DenyByLegacyNameAndByAlias) {
    for (const char* rule : {"deny netbk\n", "deny xen-backend:vif\n", "deny xen_netback\n"}) {
        const auto out = ask("xen-backend:vif", "/devices/xen-backend/vif-3-0", Role::dom0, rule);
        EXPECT_EQ(out.kind, BackendOutcome::Kind::denied) << rule << out.message;
        EXPECT_NE(out.message.find("denied by /etc/xen-autoload/local.conf:1"), std::string::npos)
            << out.message;
        EXPECT_TRUE(out.ok());
    }
    // Only what is denied.
    EXPECT_EQ(ask("xen-backend:vbd", "", Role::dom0, "deny netbk\n").kind,
              BackendOutcome::Kind::loaded);
    EXPECT_EQ(counter->inserts, 1);
}

// Every line handle_backend_request logs carries the device in XA_DEVICE= (log.h), on
// every path: role, user space, unresolved, denied, present, loaded, failed.
TEST_F(BackendRequestTest, EveryLineNamesTheDevice) {
    class FailingInserter final : public Inserter {
      public:
        InsertOutcome insert(const std::string&) override {
            InsertOutcome o;
            o.err = ENODEV;
            return o;
        }
    };
    index.states["xen_pciback"] = ModuleState::loaded;
    index.aliases["xen-backend:pci"] = "xen_pciback";
    index.states["xen_scsiback"] = ModuleState::loadable;
    index.aliases["xen-backend:vscsi"] = "xen_scsiback";
    std::vector<std::pair<std::string, LogFields>> lines;
    log_set_test_sink([&](LogLevel, std::string_view m, const LogFields& f) {
        lines.emplace_back(std::string(m), f);
    });
    const std::string dev = "/devices/xen-backend/vif-5-0";
    std::size_t expected = 0;
    auto check = [&](BackendOutcome::Kind kind, const std::string& alias, Role role,
                     const std::string& policy = "") {
        const auto out = ask(alias, dev, role, policy);
        EXPECT_EQ(out.kind, kind) << out.message;
        ++expected;
        ASSERT_EQ(lines.size(), expected) << out.message;  // exactly one line per request
        EXPECT_EQ(lines.back().first, out.message);
        EXPECT_EQ(lines.back().second.device, dev) << out.message;
    };
    check(BackendOutcome::Kind::not_for_role, "xen-backend:vif", Role::domU);
    check(BackendOutcome::Kind::user_space, "xen-backend:console", Role::dom0);
    check(BackendOutcome::Kind::unresolved, "xen-backend:nothing", Role::dom0);
    check(BackendOutcome::Kind::denied, "xen-backend:vif", Role::dom0, "deny netbk\n");
    check(BackendOutcome::Kind::present, "xen-backend:pci", Role::dom0);
    check(BackendOutcome::Kind::loaded, "xen-backend:vif", Role::dom0);
    factory = [] { return std::make_unique<FailingInserter>(); };
    check(BackendOutcome::Kind::failed, "xen-backend:vscsi", Role::dom0);
    log_set_test_sink({});
    EXPECT_EQ(lines.back().second.err, ENODEV);
    EXPECT_EQ(lines.back().second.module, "xen_scsiback");
}

TEST_F(BackendRequestTest, ForgedDevpathIsEscapedAndBounded) {
    const auto out = ask("xen-backend:vif", "/x\n<0>FORGED", Role::dom0);
    EXPECT_EQ(out.message.find('\n'), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("device /x\\x0a<0>FORGED asks for"), std::string::npos)
        << out.message;
    const auto long_path = ask("xen-backend:vif", "/" + std::string(5000, 'a'), Role::dom0);
    EXPECT_LT(long_path.message.size(), 200U) << long_path.message;
}

TEST_F(BackendRequestTest, DeadlineReturnsAnOutcomeInsteadOfExiting) {
    counter->hold = std::chrono::milliseconds(300);
    Policy p;
    BackendOptions o;
    o.role = Role::dom0;
    o.deadline = std::chrono::milliseconds(20);
    const auto out = handle_backend_request({"xen-backend:vif", "/devices/xen-backend/vif-1-0"}, p,
                                            index, factory, o);
    EXPECT_TRUE(out.timed_out);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::failed);
    EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace xa
