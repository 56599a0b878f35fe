package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Config providers, as Kafka defines them (KIP-297, KIP-421): a value may
// hold ${provider:[path:]key} references that are replaced, before the
// value is read, by what the provider named in config.providers returns.
// Strait has Kafka's three built-in providers.
const (
	KeyConfigProviders = "config.providers"

	FileProviderClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	DirectoryProviderClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
	EnvVarProviderClass    = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
)

// providerRef is Kafka's ConfigTransformer.DEFAULT_PATTERN.
var providerRef = regexp.MustCompile(`\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}`)

// provider resolves the references to one declared provider.
type provider struct {
	name, class string
	// allowedPaths is the allowed.paths parameter of the file and
	// directory providers: files outside these directories are refused.
	allowedPaths []string
	// allowlist is the env provider's allowlist.pattern parameter.
	allowlist *regexp.Regexp
	environ   map[string]string
	// files caches parsed properties files: one file may hold many keys.
	files map[string]map[string]string
}

// resolveProviders replaces every provider reference in raw's values, in
// place. It returns, for each key whose value held references, the value as
// written (so that it can be shown instead of the secret), and an error per
// key that could not be resolved, naming the key that refers.
func resolveProviders(raw map[string]string, environ []string) (written map[string]string, errs []*KeyError) {
	fail := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Problem: fmt.Sprintf(format, args...)})
	}
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	providers := map[string]*provider{}
	refused := map[string]bool{} // listed, but their class is refused (reported once)
	for _, name := range splitList(raw[KeyConfigProviders]) {
		prefix := KeyConfigProviders + "." + name + "."
		p := &provider{name: name, class: raw[prefix+"class"], environ: env, files: map[string]map[string]string{}}
		switch p.class {
		case FileProviderClass, DirectoryProviderClass, EnvVarProviderClass:
		case "":
			fail(prefix+"class", "missing: the class of config provider %q (%s, %s or %s)", name, FileProviderClass, DirectoryProviderClass, EnvVarProviderClass)
			refused[name] = true
			continue
		default:
			fail(prefix+"class", "config provider class %q is not available in Strait: use %s, %s or %s", p.class, FileProviderClass, DirectoryProviderClass, EnvVarProviderClass)
			refused[name] = true
			continue
		}
		if v, ok := raw[prefix+"param.allowed.paths"]; ok && p.class != EnvVarProviderClass {
			for _, dir := range splitList(v) {
				if !filepath.IsAbs(dir) {
					fail(prefix+"param.allowed.paths", "%q is not an absolute path", dir)
				}
				p.allowedPaths = append(p.allowedPaths, filepath.Clean(dir))
			}
		}
		if v, ok := raw[prefix+"param.allowlist.pattern"]; ok && p.class == EnvVarProviderClass {
			re, err := regexp.Compile(`^(?:` + v + `)$`)
			if err != nil {
				fail(prefix+"param.allowlist.pattern", "invalid regular expression: %v", err)
			}
			p.allowlist = re
		}
		providers[name] = p
	}

	written = map[string]string{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := raw[k]
		if strings.HasPrefix(k, KeyConfigProviders) || !strings.Contains(v, "${") {
			continue
		}
		var bad bool
		resolved := providerRef.ReplaceAllStringFunc(v, func(ref string) string {
			m := providerRef.FindStringSubmatch(ref)
			name, path, key := m[1], m[2], m[3]
			p, ok := providers[name]
			if !ok {
				bad = true
				if !refused[name] {
					fail(k, "%s refers to config provider %q, which config.providers does not list", ref, name)
				}
				return ref
			}
			out, err := p.get(path, key)
			if err != nil {
				bad = true
				fail(k, "%s: %v", ref, err)
				return ref
			}
			return out
		})
		if resolved != v {
			written[k] = v
		}
		if !bad {
			raw[k] = resolved
		}
	}
	return written, errs
}

// get returns the value of key at path.
func (p *provider) get(path, key string) (string, error) {
	switch p.class {
	case EnvVarProviderClass:
		if path != "" {
			return "", errors.New("the env provider takes no path: write ${" + p.name + ":NAME}")
		}
		if p.allowlist != nil && !p.allowlist.MatchString(key) {
			return "", fmt.Errorf("environment variable %s is not allowed by %s.%s.param.allowlist.pattern", key, KeyConfigProviders, p.name)
		}
		v, ok := p.environ[key]
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", key)
		}
		return v, nil
	case DirectoryProviderClass:
		if path == "" {
			return "", errors.New("the directory provider needs a directory: write ${" + p.name + ":/dir:file}")
		}
		file := filepath.Join(path, key)
		if filepath.Dir(file) != filepath.Clean(path) {
			return "", fmt.Errorf("%q is not a file name in %s", key, path)
		}
		if err := p.allowed(file); err != nil {
			return "", err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", file, unwrapPathError(err))
		}
		return string(data), nil
	default: // FileProviderClass
		if path == "" {
			return "", errors.New("the file provider needs a file: write ${" + p.name + ":/path/to/file.properties:key}")
		}
		if err := p.allowed(path); err != nil {
			return "", err
		}
		props, ok := p.files[path]
		if !ok {
			data, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("read %s: %w", path, unwrapPathError(err))
			}
			if props, err = ParseProperties(data); err != nil {
				return "", fmt.Errorf("file %s: %w", path, err)
			}
			p.files[path] = props
		}
		v, ok := props[key]
		if !ok {
			return "", fmt.Errorf("file %s has no key %q", path, key)
		}
		return v, nil
	}
}

// allowed checks file against allowed.paths (KIP-993).
func (p *provider) allowed(file string) error {
	if len(p.allowedPaths) == 0 {
		return nil
	}
	clean := filepath.Clean(file)
	for _, dir := range p.allowedPaths {
		if clean == dir || strings.HasPrefix(clean, dir+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("%s is outside %s.%s.param.allowed.paths", file, KeyConfigProviders, p.name)
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
