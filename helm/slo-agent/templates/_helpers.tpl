{{/*
Helpers. Those used by the sidecar templates read only .Values and .Release, so a parent chart
can call them with (dict "Values" (index .Values "slo-agent") "Release" .Release).
*/}}

{{- define "slo-agent.name" -}}
{{- default "slo-agent" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "slo-agent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "slo-agent.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "slo-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slo-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "slo-agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "slo-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: slo-agent
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "slo-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "slo-agent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "slo-agent.specsConfigMap" -}}
{{- default (printf "%s-specs" (include "slo-agent.fullname" .)) .Values.existingConfigMap -}}
{{- end -}}

{{- define "slo-agent.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{/* The spec files (name -> text) as JSON: .Values.specs, else the example in files/specs/.
Needs the chart's own context (.Files). */}}
{{- define "slo-agent.specFiles" -}}
{{- if .Values.specs -}}
{{- toJson .Values.specs -}}
{{- else -}}
{{- $files := dict -}}
{{- range $path, $_ := .Files.Glob "files/specs/*.yaml" -}}
{{- $_ := set $files (base $path) ($.Files.Get $path) -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}
{{- end -}}

{{/* sha256 of the spec files (name NUL text, NUL-joined, names sorted): scripts/chart-files.py
computes the same to tell whether files/prometheusrule.yaml belongs to these specs. */}}
{{- define "slo-agent.specsDigest" -}}
{{- $specs := include "slo-agent.specFiles" . | fromJson -}}
{{- $parts := list -}}
{{- range $name := keys $specs | sortAlpha -}}
{{- $parts = append $parts (printf "%s\x00%s" $name (index $specs $name)) -}}
{{- end -}}
{{- join "\x00" $parts | sha256sum -}}
{{- end -}}

{{/*
The agent container. Context: dict with Values, Release and optional "shards" (> 1: the pod's
shard comes from the StatefulSet pod-index label).
*/}}
{{- define "slo-agent.container" -}}
{{- $v := .Values -}}
{{- $shards := int (default 1 .shards) -}}
- name: {{ $v.sidecar.containerName }}
  image: {{ include "slo-agent.image" . | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args:
    - --listen
    - {{ printf "0.0.0.0:%d" (int $v.port) | quote }}
    - --store
    - /var/lib/slo-agent/store.db
    - --raw-retention
    - {{ $v.store.rawRetention | quote }}
    - --log-level
    - {{ $v.logLevel | quote }}
    {{- if ne (toString $v.probeWorkers) "" }}
    - --probe-workers
    - {{ $v.probeWorkers | toString | quote }}
    {{- end }}
    {{- if $v.httpsEngine }}
    - --https-engine
    - {{ $v.httpsEngine | quote }}
    {{- end }}
    {{- if gt $shards 1 }}
    - --shard
    - {{ printf "$(SLO_AGENT_SHARD_INDEX)/%d" $shards | quote }}
    {{- end }}
    {{- range $v.extraArgs }}
    - {{ . | quote }}
    {{- end }}
    - /etc/slo-agent/specs
  {{- if or (gt $shards 1) $v.env }}
  env:
    {{- if gt $shards 1 }}
    - name: SLO_AGENT_SHARD_INDEX
      valueFrom:
        fieldRef:
          fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
    {{- end }}
    {{- with $v.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with $v.envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - name: slo-metrics
      containerPort: {{ $v.port }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /healthz
      port: slo-metrics
    {{- toYaml $v.livenessProbe | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: slo-metrics
    {{- toYaml $v.readinessProbe | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  volumeMounts:
    - name: slo-agent-specs
      mountPath: /etc/slo-agent/specs
      readOnly: true
    - name: slo-agent-store
      mountPath: /var/lib/slo-agent
    - name: slo-agent-tmp
      mountPath: /tmp
{{- end -}}

{{/*
The agent's volumes. Context as for slo-agent.container; "claimTemplate" true leaves the store
volume to the StatefulSet's volumeClaimTemplates.
*/}}
{{- define "slo-agent.volumes" -}}
{{- $v := .Values -}}
- name: slo-agent-specs
  configMap:
    name: {{ include "slo-agent.specsConfigMap" . }}
{{- if not .claimTemplate }}
- name: slo-agent-store
  {{- if $v.store.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ $v.store.persistence.existingClaim }}
  {{- else if $v.store.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "slo-agent.fullname" . }}-store
  {{- else }}
  emptyDir:
    {{- toYaml $v.store.emptyDir | nindent 4 }}
  {{- end }}
{{- end }}
- name: slo-agent-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/*
Public: the agent as a sidecar container (a list item for a pod's "containers"), with its
volumes in "slo-agent.sidecar.volumes". Call from the host chart:
  {{- include "slo-agent.sidecar" (dict "Values" (index .Values "slo-agent") "Release" .Release) | nindent 8 }}
*/}}
{{- define "slo-agent.sidecar" -}}
{{- include "slo-agent.container" (dict "Values" .Values "Release" .Release) -}}
{{- end -}}

{{- define "slo-agent.sidecar.volumes" -}}
{{- include "slo-agent.volumes" (dict "Values" .Values "Release" .Release) -}}
{{- end -}}

{{/* The pod spec of the standalone workloads. Context: dict root, shards, claimTemplate. */}}
{{- define "slo-agent.podSpec" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
serviceAccountName: {{ include "slo-agent.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
containers:
  {{- include "slo-agent.container" (dict "Values" $v "Release" $root.Release "shards" .shards) | nindent 2 }}
volumes:
  {{- include "slo-agent.volumes" (dict "Values" $v "Release" $root.Release "claimTemplate" .claimTemplate) | nindent 2 }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
