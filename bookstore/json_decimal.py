"""JSON com dinheiro exato.

O `json` da biblioteca padrão lê `39.90` como float (inexato) e o provedor padrão
do Flask escreve `Decimal` como string. O contrato pede números JSON com duas
casas, sem aritmética de float em lugar nenhum: o simplejson com `use_decimal`
lê números com ponto direto para `Decimal` e escreve `Decimal("39.90")` como `39.90`.
"""
import datetime
import uuid

import simplejson
from flask.json.provider import DefaultJSONProvider


class ProvedorJSONDecimal(DefaultJSONProvider):
    ensure_ascii = False  # "Dom Casmurro" e "São Paulo" legíveis no curl
    sort_keys = False  # a ordem dos campos segue a do contrato

    @staticmethod
    def default(o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return DefaultJSONProvider.default(o)

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return simplejson.dumps(obj, use_decimal=True, **kwargs)

    def loads(self, s, **kwargs):
        return simplejson.loads(s, use_decimal=True, **kwargs)
