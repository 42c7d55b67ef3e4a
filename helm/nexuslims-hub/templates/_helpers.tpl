{{- /* Names follow the jupyterhub chart's prefix (empty by default), so the hub finds "nxhub-api". */}}


{{- /* nxhub.resource: (list $ "api") -> "<prefix>nxhub-api" */}}
{{- define "nxhub.resource" -}}
{{- $root := index . 0 -}}
{{- include "jupyterhub.fullname.dash" $root }}nxhub-{{ index . 1 }}
{{- end }}

{{- define "nxhub.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: nexuslims-hub
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "nxhub.labels" -}}
{{- $root := index . 0 -}}
{{ include "nxhub.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ $root.Chart.Name }}-{{ $root.Chart.Version }}
{{- end }}

{{- define "nxhub.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "nxhub.databaseSecretName" -}}
{{- if .Values.database.external.existingSecret -}}
{{ .Values.database.external.existingSecret }}
{{- else -}}
{{ include "nxhub.resource" (list . "database") }}
{{- end }}
{{- end }}

{{- define "nxhub.databaseSecretKey" -}}
{{- if .Values.database.external.existingSecret -}}
{{ .Values.database.external.existingSecretKey }}
{{- else -}}
database-url
{{- end }}
{{- end }}

{{- define "nxhub.stateClaim" -}}
{{- .Values.state.existingClaim | default (include "nxhub.resource" (list . "state")) }}
{{- end }}

{{- /* The pod spec parts every nxhub pod shares. */}}
{{- define "nxhub.podCommon" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
enableServiceLinks: false
{{- end }}

{{- /* Environment of every nxhub container: settings from the ConfigMap, the URL from the Secret. */}}
{{- define "nxhub.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "nxhub.resource" (list . "settings") }}
env:
  - name: NXHUB_DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "nxhub.databaseSecretName" . }}
        key: {{ include "nxhub.databaseSecretKey" . }}
{{- end }}

{{- /* Volumes: a writable /tmp (read-only root), nxhub state, each instrument store. */}}
{{- define "nxhub.volumes" -}}
- name: tmp
  emptyDir: {}
- name: state
  persistentVolumeClaim:
    claimName: {{ include "nxhub.stateClaim" . }}
{{- range .Values.jupyterhub.custom.nexuslims.instrumentStores }}
- name: store-{{ .name }}
  {{- toYaml .volume | nindent 2 }}
{{- end }}
{{- end }}

{{- define "nxhub.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: state
  mountPath: /var/lib/nxhub
{{- range .Values.jupyterhub.custom.nexuslims.instrumentStores }}
- name: store-{{ .name }}
  mountPath: {{ .mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{- /* Wait until the migration Job has brought the schema to the code's head (exit 3 until then). */}}
{{- define "nxhub.waitForSchema" -}}
- name: wait-for-schema
  image: {{ include "nxhub.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["sh", "-c", "until nxhub db current >/dev/null; do echo 'waiting for nxhub db upgrade'; sleep 5; done"]
  {{- include "nxhub.env" . | nindent 2 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    requests: {cpu: 10m, memory: 128Mi}
    limits: {cpu: 500m, memory: 512Mi}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{- /* The in-cluster PostgreSQL password: given, else the one already in the Secret, else new. */}}
{{- define "nxhub.postgresPassword" -}}
{{- if .Values.database.internal.password -}}
{{ .Values.database.internal.password }}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "nxhub.resource" (list . "database")) -}}
{{- if and $existing (index ($existing.data | default dict) "postgres-password") -}}
{{ index $existing.data "postgres-password" | b64dec }}
{{- else -}}
{{- $_ := set .Values.database.internal "password" (randAlphaNum 32) -}}
{{ .Values.database.internal.password }}
{{- end -}}
{{- end -}}
{{- end }}

{{- /*
  A background nxhub Deployment (worker, harvest, indexer): one container, no ports, the shared
  env and volumes. Call with (dict "root" $ "component" "worker" "command" list "env" list
  "resources" dict "replicas" int-or-nil).
*/}}
{{- define "nxhub.backgroundDeployment" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "nxhub.resource" (list $root .component) }}
  labels:
    {{- include "nxhub.labels" (list $root .component) | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  {{- with .strategy }}
  strategy:
    type: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "nxhub.selectorLabels" (list $root .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "nxhub.labels" (list $root .component) | nindent 8 }}
        nxhub.org/database-access: "true"
      annotations:
        checksum/settings: {{ include (print $root.Template.BasePath "/settings-configmap.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "nxhub.podCommon" $root | nindent 6 }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ .grace | default 30 }}
      initContainers:
        {{- include "nxhub.waitForSchema" $root | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "nxhub.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command:
            {{- toYaml .command | nindent 12 }}
          {{- include "nxhub.env" $root | nindent 10 }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            {{- include "nxhub.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "nxhub.volumes" $root | nindent 8 }}
{{- end }}

{{- /* The Secret holding the metrics bearer token (key metrics-token): given, or this chart's. */}}
{{- define "nxhub.metricsSecretName" -}}
{{- .Values.metrics.existingSecret | default (include "nxhub.resource" (list . "metrics")) -}}
{{- end }}
