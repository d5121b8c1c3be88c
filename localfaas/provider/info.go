package provider

import (
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

// gatewayInfo is the answer of an OpenFaaS gateway's /system/info, which faas-cli version reads:
// localfaas is gateway and provider at once.
type gatewayInfo struct {
	Provider *types.ProviderInfo `json:"provider"`
	Version  *types.VersionInfo  `json:"version"`
	Arch     string              `json:"arch"`
}

// MakeInfoHandler serves GET /system/info.
func MakeInfoHandler() http.HandlerFunc {
	version := buildVersion()
	info := gatewayInfo{
		Provider: &types.ProviderInfo{Name: ProviderName, Orchestration: Orchestration, Version: version},
		Version:  version,
		Arch:     runtime.GOARCH,
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
