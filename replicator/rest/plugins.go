package rest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/strait-replicator/strait/configs"
)

// pluginClasses are the connector plugins a worker has: MM2's three
// connectors, sorted by class name as Connect lists plugins.
var pluginClasses = []string{
	"org.apache.kafka.connect.mirror.MirrorCheckpointConnector",
	"org.apache.kafka.connect.mirror.MirrorHeartbeatConnector",
	"org.apache.kafka.connect.mirror.MirrorSourceConnector",
}

// pluginClass finds the plugin named by its class, its simple name or its
// alias (the simple name without "Connector"), as Connect does.
func pluginClass(name string) (string, bool) {
	for _, c := range pluginClasses {
		simple := c[strings.LastIndex(c, ".")+1:]
		if name == c || name == simple || name == strings.TrimSuffix(simple, "Connector") {
			return c, true
		}
	}
	return "", false
}

// plugins answers GET /connector-plugins: every plugin is a source
// connector, so connectorsOnly changes nothing.
func (h *restHandler) plugins(rw http.ResponseWriter, _ *http.Request) {
	out := make([]map[string]string, 0, len(pluginClasses))
	for _, c := range pluginClasses {
		out = append(out, map[string]string{"class": c, "type": "source", "version": h.cfg.Version})
	}
	writeJSON(rw, http.StatusOK, out)
}

// configKeyInfo is Connect's ConfigKeyInfo: the definition of a config key.
type configKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         string   `json:"group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
}

// configValueInfo is Connect's ConfigValueInfo: a key's value as
// validated.
type configValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

type configInfo struct {
	Definition configKeyInfo   `json:"definition"`
	Value      configValueInfo `json:"value"`
}

// pluginGroup is the one group of the keys Strait describes.
const pluginGroup = "Common"

func keyInfo(name, typ string, def *string, order int) configKeyInfo {
	return configKeyInfo{Name: name, Type: typ, DefaultValue: def, Importance: "MEDIUM", Group: pluginGroup,
		Width: "NONE", DisplayName: name, Dependents: []string{}, Order: order}
}

// definitions describes the keys of a flow's settings whose value Strait
// reads, with MM2's defaults.
func definitions() ([]configKeyInfo, []configs.FlowKeyDef) {
	defs := configs.FlowKeyDefs()
	out := make([]configKeyInfo, len(defs))
	for i, d := range defs {
		var def *string
		if d.HasDefault {
			def = &d.Default
		}
		out[i] = keyInfo(d.Name, d.Type, def, i+1)
	}
	return out, defs
}

// pluginConfig answers GET /connector-plugins/{plugin}/config.
func (h *restHandler) pluginConfig(rw http.ResponseWriter, r *http.Request) {
	if _, ok := pluginClass(r.PathValue("plugin")); !ok {
		writeError(rw, http.StatusNotFound, fmt.Sprintf("Unknown plugin %s.", r.PathValue("plugin")))
		return
	}
	infos, _ := definitions()
	writeJSON(rw, http.StatusOK, infos)
}

// validate answers PUT /connector-plugins/{plugin}/config/validate: the
// config is checked as PUT /connectors/{name}/config would check it for
// the flow its source.cluster.alias and target.cluster.alias name, and
// every key's errors are listed: the described keys, then the others
// sent.
func (h *restHandler) validate(rw http.ResponseWriter, r *http.Request) {
	plugin := r.PathValue("plugin")
	cfg, err := readConfig(r)
	if err != nil {
		writeBodyError(rw, err)
		return
	}
	class, ok := pluginClass(plugin)
	if !ok {
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s", plugin, strings.Join(pluginClasses, ", ")))
		return
	}
	sent, ok := cfg["connector.class"]
	if !ok {
		writeError(rw, http.StatusBadRequest, "Connector config contains no connector type")
		return
	}
	if c, _ := pluginClass(sent); c != class {
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Included connector type %s does not match request type %s", sent, plugin))
		return
	}
	problems := h.w.ValidateSettings(cfg["source.cluster.alias"], cfg["target.cluster.alias"], cfg)
	for _, k := range []string{"source.cluster.alias", "target.cluster.alias"} {
		if cfg[k] == "" {
			problems[k] = append(problems[k], fmt.Sprintf("Missing required configuration %q which has no default value.", k))
		}
	}

	infos, defs := definitions()
	out := struct {
		Name       string       `json:"name"`
		ErrorCount int          `json:"error_count"`
		Groups     []string     `json:"groups"`
		Configs    []configInfo `json:"configs"`
	}{Name: class, Groups: []string{pluginGroup}, Configs: []configInfo{}}
	add := func(def configKeyInfo, recommended []string) {
		v := configValueInfo{Name: def.Name, Value: def.DefaultValue, RecommendedValues: recommended, Errors: problems[def.Name], Visible: true}
		if s, ok := cfg[def.Name]; ok {
			v.Value = &s
		}
		if v.Value != nil && configs.IsSecretKey(def.Name) {
			hidden := "[hidden]"
			v.Value = &hidden
		}
		if v.RecommendedValues == nil {
			v.RecommendedValues = []string{}
		}
		if v.Errors == nil {
			v.Errors = []string{}
		}
		out.ErrorCount += len(v.Errors)
		out.Configs = append(out.Configs, configInfo{Definition: def, Value: v})
	}
	described := map[string]bool{}
	for i, def := range infos {
		described[def.Name] = true
		add(def, defs[i].Values)
	}
	var others []string
	for k := range cfg {
		others = append(others, k)
	}
	for k := range problems {
		others = append(others, k)
	}
	slices.Sort(others)
	for _, k := range slices.Compact(others) {
		if !described[k] {
			add(keyInfo(k, "STRING", nil, len(out.Configs)+1), nil)
		}
	}
	writeJSON(rw, http.StatusOK, out)
}
