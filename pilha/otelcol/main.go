// Escrito à mão, não gerado: o OpenTelemetry Collector Builder (ocb) não é servido
// pelo proxy de módulos Go que esta máquina alcança. Este arquivo é o equivalente curto
// do main.go que o ocb gera (cmd/builder/internal/builder/templates/main.go.tmpl):
// uma distribuição "otelcol" com providers env, file e yaml para a configuração.
package main

import (
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// versao é trocada no build por -ldflags "-X main.versao=..." (pilha/versoes.env).
var versao = "desenvolvimento"

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol",
			Description: "Collector do Bookstore OTel Lab (só os componentes que o laboratório usa)",
			Version:     versao,
		},
		Factories: componentes,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	}
	// O cobra já imprime o erro; aqui só o código de saída.
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		os.Exit(1)
	}
}
