package provider

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/openfaas/faas-provider/types"
)

// ProviderName and Orchestration are what /system/info reports.
const (
	ProviderName  = "localfaas"
	Orchestration = "processes"
)

// Role is what localfaas is to the caller of its API, which decides the shape of /system/info.
type Role string

const (
	// RoleGateway is the default (also for ""): localfaas is the gateway faas-cli and the connectors talk
	// to. /system/info answers the OpenFaaS gateway's GatewayInfo:
	// {"provider":{"provider":"localfaas","orchestration":"processes","version":{…}},"version":{…},"arch":"amd64"}.
	RoleGateway Role = "gateway"
	// RoleProvider is for running behind a real OpenFaaS gateway, which reads /system/info as the
	// provider's ProviderInfo (faas-provider's types.ProviderInfo):
	// {"provider":"localfaas","orchestration":"processes","version":{"sha":…,"release":…}}.
	RoleProvider Role = "provider"
)

// ParseRole reads a role as LOCALFAAS_ROLE spells it: "gateway" (or empty) or "provider".
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case "", RoleGateway:
		return RoleGateway, nil
	case RoleProvider:
		return RoleProvider, nil
	}
	return "", fmt.Errorf("role must be %q or %q, not %q", RoleGateway, RoleProvider, s)
}

// gatewayInfo is the answer of an OpenFaaS gateway's /system/info, which faas-cli version reads:
// localfaas is gateway and provider at once.
type gatewayInfo struct {
	Provider *types.ProviderInfo `json:"provider"`
	Version  *types.VersionInfo  `json:"version"`
	Arch     string              `json:"arch"`
}

// MakeInfoHandler serves GET /system/info in the shape role's callers read (see Role).
func MakeInfoHandler(role Role) http.HandlerFunc {
	version := buildVersion()
	providerInfo := &types.ProviderInfo{Name: ProviderName, Orchestration: Orchestration, Version: version}
	var info any = gatewayInfo{Provider: providerInfo, Version: version, Arch: runtime.GOARCH}
	if role == RoleProvider {
		info = providerInfo
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, info)
	}
}

// buildVersion reads the module version and VCS revision the binary was built with.
func buildVersion() *types.VersionInfo {
	v := &types.VersionInfo{Release: "dev", SHA: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Release = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v.SHA = s.Value
		}
	}
	return v
}
