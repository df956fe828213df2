// Kernel uevent messages as the kernel sends them on NETLINK_KOBJECT_UEVENT, shared by the
// parser tests and the netlink tests.
#pragma once

#include <string>

namespace xa::test {

// "add" of a guest's network backend device, NUL-separated as on the wire.
inline const std::string& vif_add() {
    using namespace std::string_literals;
    static const std::string msg =
        "add@/devices/xen-backend/vif-3-0\0ACTION=add\0DEVPATH=/devices/xen-backend/vif-3-0\0"
        "SUBSYSTEM=xen-backend\0XENBUS_TYPE=vif\0XENBUS_PATH=backend/vif/3/0\0"
        "XENBUS_BASE_PATH=backend\0MODALIAS=xen-backend:vif\0SEQNUM=1234\0"s;
    return msg;
}

}  // namespace xa::test
